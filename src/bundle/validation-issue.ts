/** One finding of `validateBundle`, in its own module so that the web app's rules can produce them without importing the validator that runs them. */
export interface ValidationIssue {
  code: string;
  chunkId: string | null;
  message: string;
}
