/** Types of scripts/lint-deploy.mjs for the TypeScript tests that import it. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
};
export const ROOT: string;
export const KUSTOMIZATIONS: string[];
export const LOOSE_MANIFESTS: string[];
export function lintDockerfile(text: string): string[];
export function readCompose(text: string): {
  problems: string[];
  services: Record<string, Record<string, unknown>>;
};
export function strategicMerge(base: unknown, patch: unknown): unknown;
export function renderKustomization(dir: string): Manifest[];
export function validateObjects(objects: Manifest[]): Promise<string[]>;
export function lintDeployment(root?: string): Promise<string[]>;
