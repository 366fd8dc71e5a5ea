/**
 * Denial of service bounds, on 127.0.0.1 with bounded numbers of clients:
 * floods of message streams (without and with the token) and slow clients
 * that trickle their headers must not stop a real page from loading the
 * config and completing a capture. Everything opened here is closed here.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { startViewer, type Viewer } from "../src/node/index.js";
import { EXAMPLE, ROOT } from "./helpers.js";
import { type PageStream, connectPage, json, request } from "./server-client.js";

const DATA = join(ROOT, "examples", "pbmc-demo.h5ad");

/** A raw TCP client: writes `text` (all at once, or one byte per `trickleMs`), collects what comes back. */
function rawClient(v: Viewer, text: string, opts: { trickleMs?: number; localAddress?: string } = {}) {
  const u = new URL(v.url);
  const socket = net.connect({ host: u.hostname, port: Number(u.port), ...(opts.localAddress && { localAddress: opts.localAddress }) });
  let received = "";
  let timer: NodeJS.Timeout | null = null;
  let isClosed = false;
  const closed = new Promise<void>((resolve) => socket.once("close", () => ((isClosed = true), resolve())));
  socket.on("error", () => undefined);
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => (received += d));
  socket.once("close", () => timer && clearInterval(timer));
  socket.once("connect", () => {
    if (!opts.trickleMs) return void socket.write(text);
    let at = 0;
    timer = setInterval(() => (at < text.length ? socket.write(text[at++]!) : clearInterval(timer!)), opts.trickleMs);
  });
  return { socket, closed, isClosed: () => isClosed, received: () => received, destroy: () => socket.destroy() };
}

/** The page's work: answer the program's next capture request with the example bundle. */
async function answerCapture(v: Viewer, page: PageStream, file: Buffer): Promise<void> {
  const msg = await page.next(10_000);
  assert.equal(msg["type"], "requestSessionBundle");
  const up = await request(v, `/_cellucid/session_bundle?viewerId=${v.viewerId}&requestId=${msg["requestId"]}`, {
    method: "POST",
    body: file,
    headers: { "Content-Type": "application/octet-stream" },
  });
  assert.equal(up.status, 200);
}

/** Loads the config and completes a capture through `page`, as a real page does. */
async function legitimateRoundTrip(v: Viewer, page: PageStream, file: Buffer): Promise<void> {
  const cfg = await request(v, "/_cellucid/config");
  assert.equal(cfg.status, 200);
  assert.equal(json(cfg).dataset.nObs, 2638);
  // The person uses this page (the others are idle): the capture asks it and no other.
  assert.equal((await postEvent(v, "legit-page", "interaction")).status, 204);
  const captured = v.getSessionBundle({ timeoutMs: 20_000 });
  await answerCapture(v, page, file);
  const b = await captured;
  assert.equal(b.byteLength, file.length);
  await b.close();
}

function postEvent(v: Viewer, tabId: string, type = "ready") {
  return request(v, "/_cellucid/events", { method: "POST", body: JSON.stringify({ type, viewerId: v.viewerId, tabId }), headers: { "Content-Type": "application/json" } });
}

test("SSE flood: 200 streams without the token take no slot; idle streams over the limit replace each other, never an active page", async () => {
  const file = await readFile(EXAMPLE);
  const v = await startViewer(DATA); // default limits: 16 streams per client address (every local client is 127.0.0.1)
  const opened: { destroy(): void }[] = [];
  const streams: PageStream[] = [];
  try {
    const page = await connectPage(v, { tabId: "legit-page" });
    streams.push(page);
    assert.equal(page.status, 200);
    assert.equal((await postEvent(v, "legit-page")).status, 204);

    // 200 keep-alive connections asking for the stream without the token, held open.
    const request401 = `GET /_cellucid/messages?viewerId=${v.viewerId} HTTP/1.1\r\nHost: ${new URL(v.url).host}\r\n\r\n`;
    const anonymous = Array.from({ length: 200 }, () => rawClient(v, request401));
    opened.push(...anonymous);
    for (let i = 0; i < 500 && anonymous.some((c) => !c.received().includes("\r\n\r\n")); i++) await new Promise((r) => setTimeout(r, 20));
    for (const c of anonymous) assert.match(c.received(), /^HTTP\/1\.1 401 /);

    // 40 idle streams with the token: each is let in, replacing the oldest idle one beyond the 15 free slots.
    const idle: PageStream[] = [];
    for (let i = 0; i < 40; i++) {
      const s = await connectPage(v, { tabId: `idle-${i}` });
      streams.push(s);
      assert.equal(s.status, 200, `idle stream ${i}`);
      idle.push(s);
    }
    await Promise.all(idle.slice(0, 25).map((s) => s.ended));
    assert.ok(idle.slice(0, 25).every((s) => s.events.includes("evicted")), "the replaced streams were told why");
    assert.ok(idle.slice(25).every((s) => s.events.length === 0));

    // The page that is in use kept its stream: config and a capture work through it.
    assert.deepEqual(page.events, []);
    await legitimateRoundTrip(v, page, file);

    // With every slot in use by active pages, a newcomer is refused rather than pushing one out.
    for (let i = 25; i < 40; i++) assert.equal((await postEvent(v, `idle-${i}`)).status, 204);
    const late = await connectPage(v, { tabId: "late" });
    assert.equal(late.status, 429);
    late.close();
    assert.equal(late.headers["retry-after"], "30");
  } finally {
    for (const s of streams) s.close();
    for (const c of opened) c.destroy();
    await v.close();
  }
});

test("SSE flood before the page opens: the new page still gets a stream and completes a capture; the total limit answers 503", async () => {
  const file = await readFile(EXAMPLE);
  const v = await startViewer(DATA, { limits: { maxStreams: 6, maxStreamsPerClient: 4 } });
  const streams: PageStream[] = [];
  try {
    for (let i = 0; i < 12; i++) streams.push(await connectPage(v, { tabId: `idle-${i}` }));
    assert.ok(streams.every((s) => s.status === 200));
    const page = await connectPage(v, { tabId: "legit-page" });
    streams.push(page);
    assert.equal(page.status, 200);
    await postEvent(v, "legit-page");
    await legitimateRoundTrip(v, page, file);

    // A second client address (127.0.0.2 is loopback too): per-client room, but the total is full of active pages.
    for (let i = 9; i < 12; i++) await postEvent(v, `idle-${i}`);
    const host = new URL(v.url).host;
    const other = (tabId: string) =>
      rawClient(v, `GET /_cellucid/messages?viewerId=${v.viewerId}&tabId=${tabId} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${v.token}\r\n\r\n`, { localAddress: "127.0.0.2" });
    const b1 = other("b1");
    const b2 = other("b2");
    try {
      for (let i = 0; i < 250 && !(b1.received().includes("\r\n\r\n") && b2.received().includes("\r\n\r\n")); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(b1.received(), /^HTTP\/1\.1 200 /);
      assert.match(b2.received(), /^HTTP\/1\.1 200 /);
      await postEvent(v, "b1");
      await postEvent(v, "b2");
      const b3 = other("b3");
      for (let i = 0; i < 250 && !b3.received().includes("\r\n\r\n"); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(b3.received(), /^HTTP\/1\.1 503 /);
      assert.match(b3.received(), /"code":"TOO_MANY_STREAMS"/);
      b3.destroy();
    } finally {
      b1.destroy();
      b2.destroy();
    }
  } finally {
    for (const s of streams) s.close();
    await v.close();
  }
});

test("slow clients: connections trickling their headers byte by byte cannot crowd out the page; the head timeout cuts them", async () => {
  const file = await readFile(EXAMPLE);
  const v = await startViewer(DATA, { limits: { maxConnections: 40 } });
  const slow: ReturnType<typeof rawClient>[] = [];
  try {
    const page = await connectPage(v, { tabId: "legit-page" });
    await postEvent(v, "legit-page");
    const head = `GET /_cellucid/config HTTP/1.1\r\nHost: ${new URL(v.url).host}\r\nX-Padding: ${"a".repeat(200)}\r\n\r\n`;
    // 100 slow clients against a limit of 40 connections: the oldest ones are let go as new ones arrive.
    for (let i = 0; i < 100; i++) {
      slow.push(rawClient(v, head, { trickleMs: 100 }));
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 300));
    const letGo = slow.filter((c) => c.isClosed()).length;
    assert.ok(letGo >= 60 && letGo < 100, `${letGo} of 100 slow clients were let go (limit 40, one slot held by the page)`);
    assert.ok(slow.slice(-30).every((c) => !c.isClosed()), "the newest clients are the ones kept");
    // The page's stream proved it holds the token: it was never one of those let go.
    assert.deepEqual(page.events, []);
    await legitimateRoundTrip(v, page, file);
    page.close();

    // Held open, a trickling client is cut by the head timeout (10 s), long before its 230-byte head is complete.
    const last = slow[slow.length - 1]!;
    const cut = await Promise.race([last.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20_000))]);
    assert.ok(cut, "the server closed a client that never finished its request head");
    assert.match(last.received(), /^HTTP\/1\.1 408 /);
  } finally {
    for (const c of slow) c.destroy();
    await v.close();
  }
});
