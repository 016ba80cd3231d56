#!/usr/bin/env node
// Launcher: run the compiled CLI (dist/src/cli/main.js) when built, else the TypeScript source via tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = new URL('../', import.meta.url);
const compiled = fileURLToPath(new URL('dist/src/cli/main.js', root));
let mod;
if (existsSync(compiled)) {
  mod = await import(pathToFileURL(compiled).href);
} else {
  const { tsImport } = await import('tsx/esm/api');
  mod = await tsImport(fileURLToPath(new URL('src/cli/main.ts', root)), import.meta.url);
}
process.exitCode = await mod.main(process.argv.slice(2));
