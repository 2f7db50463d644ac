export interface TailFiles {
  root: string;
  files: { target: string; link: string }[];
  bytes: number;
  events: number;
}
export function prepareTailFiles(options: { dataDir: string; files?: number; totalBytes?: number; seed?: number; profile?: "mixed" | "app-350" }): TailFiles;
export function linkTailFiles(manifest: TailFiles, containersDir: string): void;
