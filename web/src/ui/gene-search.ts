/**
 * The gene search: type part of a gene name, pick one of the matches (click,
 * or Enter for the first; arrow keys move through them) and the cells are
 * coloured by its expression, from X or the chosen layer.
 */
import { NameSearch } from "../continuous.js";
import { byId, el, guard, setOptions, setStatus } from "./dom.js";

export interface GeneSearchHost {
  readonly config: { dataset: { x: { readable: boolean; layers: string[] } } };
  loadVarNames(): Promise<string[]>;
  colorByGene(index: number, layer: string | null): Promise<void>;
}

/** Matches shown at once: enough to pick from, few enough to render per keystroke. */
const MAX_RESULTS = 20;

export class GeneSearch {
  private readonly input = byId<HTMLInputElement>("gene-search");
  private readonly results = byId<HTMLUListElement>("gene-results");
  private readonly layer = byId<HTMLSelectElement>("gene-layer");
  private search: NameSearch | null = null;

  constructor(private readonly host: GeneSearchHost) {
    const x = host.config.dataset.x;
    if (!x.readable) {
      this.input.disabled = true;
      byId("gene-hint").textContent = "Colouring by genes is not available: this dataset's store cannot read its expression matrix (X).";
      return;
    }
    byId("gene-layer-label").hidden = x.layers.length === 0;
    setOptions(this.layer, [{ value: "", text: "X" }, ...x.layers.map((l) => ({ value: `L:${l}`, text: `layer ${l}` }))]);
    this.input.addEventListener("focus", guard(() => this.ready().then(() => undefined)));
    this.input.addEventListener("input", guard(() => this.update()));
    this.input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        this.results.querySelector<HTMLButtonElement>("button")?.click();
      } else if (ev.key === "ArrowDown") {
        ev.preventDefault();
        this.results.querySelector<HTMLButtonElement>("button")?.focus();
      } else if (ev.key === "Escape") this.clear();
    });
    this.results.addEventListener("keydown", (ev) => {
      const current = document.activeElement?.closest("li");
      const next = ev.key === "ArrowDown" ? current?.nextElementSibling : ev.key === "ArrowUp" ? current?.previousElementSibling : undefined;
      if (next === undefined) return;
      ev.preventDefault();
      if (next) next.querySelector("button")?.focus();
      else if (ev.key === "ArrowUp") this.input.focus();
    });
    this.layer.addEventListener("change", guard(() => {
      const picked = this.input.dataset.gene;
      return picked === undefined ? undefined : this.pick(Number(picked));
    }));
  }

  private async ready(): Promise<NameSearch> {
    if (!this.search) {
      const names = await this.host.loadVarNames();
      this.search ??= new NameSearch(names);
    }
    return this.search;
  }

  private async update(): Promise<void> {
    const search = await this.ready();
    const hits = search.find(this.input.value, MAX_RESULTS);
    this.results.replaceChildren(...hits.map((i) => {
      const b = el("button", { type: "button", textContent: search.names[i]! });
      b.dataset.testid = "gene-result";
      b.addEventListener("click", guard(() => this.pick(i)));
      return el("li", {}, b);
    }));
    if (this.input.value.trim() !== "" && hits.length === 0) this.results.replaceChildren(el("li", { className: "empty", textContent: "No gene matches" }));
  }

  private async pick(index: number): Promise<void> {
    const names = await this.host.loadVarNames();
    this.input.value = names[index] ?? "";
    this.input.dataset.gene = String(index);
    this.results.replaceChildren();
    const layer = this.layer.value.startsWith("L:") ? this.layer.value.slice(2) : null;
    try {
      await this.host.colorByGene(index, layer);
    } catch (err) {
      setStatus(`Cannot colour by ${names[index] ?? "this gene"}: ${(err as Error).message}`, "error");
    }
  }

  private clear(): void {
    this.results.replaceChildren();
  }
}
