/**
 * Writes src/client/openapi-types.ts from openapi.yaml with openapi-typescript: the request and answer shapes
 * of the API as TypeScript, for the client (src/client/types.ts) and for the routes' validated bodies.
 * `npm run types:openapi` after changing openapi.yaml; test/unit/openapi-types.test.ts fails while the committed
 * file is out of date. Run with tsx (it loads openapi-typescript's ES-module dependencies).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const ROOT = path.resolve(__dirname, '..');
export const OPENAPI_YAML = path.join(ROOT, 'openapi.yaml');
export const TYPES_FILE = path.join(ROOT, 'src', 'client', 'openapi-types.ts');

const HEADER = `// Generated from openapi.yaml by scripts/openapi-types.ts (npm run types:openapi): do not edit by hand.
// Types only: the client imports it without loading anything of the server.

`;

/** The types file openapi.yaml gives now. */
export async function renderOpenApiTypes(file: string = OPENAPI_YAML): Promise<string> {
  const ast = await openapiTS(pathToFileURL(file), {
    // A `{type: object}` without properties holds whatever the caller sent, not nothing.
    emptyObjectsUnknown: true,
    // Request bodies are validated without filling defaults in, so a field with a default may still be absent.
    defaultNonNullable: false,
    alphabetize: false,
  });
  return HEADER + astToString(ast);
}

// `--stdout` prints the file instead of writing it (the test compares that with the committed one: jest cannot
// load openapi-typescript's ES-module dependencies itself).
if (require.main === module) {
  void renderOpenApiTypes().then((text) => {
    if (process.argv.includes('--stdout')) return void process.stdout.write(text);
    writeFileSync(TYPES_FILE, text);
    console.log(`wrote ${path.relative(ROOT, TYPES_FILE)}`);
  });
}
