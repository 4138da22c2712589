// Builds the web app into eakte/webapp/static (index.html + content-hashed assets).
import * as esbuild from 'esbuild'
import { mkdirSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '..', 'eakte', 'webapp', 'static')
const assets = join(out, 'assets')
rmSync(assets, { recursive: true, force: true })
mkdirSync(assets, { recursive: true })

const result = await esbuild.build({
  entryPoints: { app: join(here, 'src', 'main.js') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  outdir: assets,
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning'
})

const built = Object.keys(result.metafile.outputs).map((p) => basename(p))
const js = built.find((n) => n.endsWith('.js'))
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
