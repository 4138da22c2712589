// Builds the web app into eakte/webapp/static (index.html + content-hashed assets).
import * as esbuild from 'esbuild'
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '..', 'eakte', 'webapp', 'static')
const assets = join(out, 'assets')
rmSync(assets, { recursive: true, force: true })
mkdirSync(assets, { recursive: true })

// pdf.js renders in a worker of its own (same origin, so the CSP's script-src 'self' covers it);
// built first so the app knows its content-hashed name.
const worker = await esbuild.build({
  entryPoints: { 'pdf-worker': join(here, 'node_modules', 'pdfjs-dist', 'build', 'pdf.worker.mjs') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  outdir: assets,
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning'
})
const workerName = basename(Object.keys(worker.metafile.outputs).find((p) => p.endsWith('.js')))

// ReDoc for /redoc (served by eakte/apidocs.py), bundled with its React runtime: no CDN.
const docs = join(out, 'docs')
rmSync(docs, { recursive: true, force: true })
await esbuild.build({
  entryPoints: { redoc: join(here, 'src', 'redoc.js') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  outdir: docs,
  define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
  legalComments: 'linked',
  logLevel: 'error'
})

// Swagger UI 5 for /docs (OpenAPI 3.1, which FastAPI writes; the 4.x of PyPI's
// swagger-ui-bundle cannot read it): its prebuilt files, copied as they are
const swagger = join(here, 'node_modules', 'swagger-ui-dist')
for (const name of ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png', 'LICENSE']) {
  copyFileSync(join(swagger, name), join(docs, name === 'LICENSE' ? 'swagger-ui.LICENSE.txt' : name))
}

const result = await esbuild.build({
  entryPoints: { app: join(here, 'src', 'main.js') },
  bundle: true,
  minify: true,
  format: 'esm',
  splitting: true, // pdf.js is a chunk of its own, loaded with the first preview
  chunkNames: '[name]-[hash]',
  target: ['es2022'],
  define: { __PDF_WORKER__: JSON.stringify(`/app/assets/${workerName}`) },
  outdir: assets,
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning'
})

const built = Object.keys(result.metafile.outputs).map((p) => basename(p))
for (const name of readdirSync(docs)) console.log(`docs/${name.padEnd(35)} ${(readFileSync(join(docs, name)).length / 1024).toFixed(1)} KiB`)
const js = basename(Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint)[0])
const css = built.find((n) => n.endsWith('.css'))
const template = readFileSync(join(here, 'src', 'index.html'), 'utf8')
writeFileSync(
  join(out, 'index.html'),
  template
    .replace('%CSS%', `<link rel="stylesheet" href="/app/assets/${css}">`)
    .replace('%JS%', `<script type="module" src="/app/assets/${js}"></script>`)
)
for (const name of readdirSync(assets)) {
  const size = readFileSync(join(assets, name)).length
  console.log(`${name.padEnd(40)} ${(size / 1024).toFixed(1)} KiB`)
}
