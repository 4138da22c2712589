// Preview of a document version inside the page: PDF with pdf.js (bundled, its worker served
// from /app/assets), images as <img>; a modal <dialog> (Esc closes, focus stays inside).
import { api, problemText } from './api.js'
import { h, clear } from './dom.js'

/* global __PDF_WORKER__ */
let pdfjs = null
const loadPdfjs = async () => {
  if (!pdfjs) {
    pdfjs = await import('pdfjs-dist/build/pdf.mjs')
    pdfjs.GlobalWorkerOptions.workerSrc = __PDF_WORKER__
  }
  return pdfjs
}

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

export const canPreview = (mediaType) => mediaType === 'application/pdf' || IMAGE_TYPES.has(mediaType)

async function renderPdf (data, stage, pager) {
  // no eval (the CSP forbids it), no XFA forms, no scripting
  const { getDocument } = await loadPdfjs()
  const pdf = await getDocument({ data, isEvalSupported: false, enableXfa: false }).promise
  let current = 1
  const label = h('span#preview-page', { 'aria-live': 'polite' })
  const prev = h('button', { type: 'button', id: 'preview-prev' }, '‹ Vorherige Seite')
  const next = h('button', { type: 'button', id: 'preview-next' }, 'Nächste Seite ›')
  const show = async () => {
    const page = await pdf.getPage(current)
    const width = Math.max(280, Math.min(stage.clientWidth || 800, 1400))
    const base = page.getViewport({ scale: 1 })
    const scale = width / base.width
    const ratio = window.devicePixelRatio || 1
    const viewport = page.getViewport({ scale: scale * ratio })
    const canvas = h('canvas.pdfpage', {
      width: Math.floor(viewport.width),
      height: Math.floor(viewport.height),
      role: 'img',
      'aria-label': `Seite ${current} von ${pdf.numPages}`
    })
    canvas.style.width = `${Math.floor(viewport.width / ratio)}px`
    await page.render({ canvasContext: canvas.getContext('2d'), viewport, canvas }).promise
    clear(stage, canvas)
    label.textContent = `Seite ${current} von ${pdf.numPages}`
    prev.disabled = current <= 1
    next.disabled = current >= pdf.numPages
    stage.dataset.rendered = String(current)
  }
  prev.addEventListener('click', () => { if (current > 1) { current--; show() } })
  next.addEventListener('click', () => { if (current < pdf.numPages) { current++; show() } })
  clear(pager, prev, label, next)
  await show()
  return () => pdf.destroy()
}

// Open the preview of one version: { content_url, media_type, filename } and a title
export function openPreview (version, title) {
  const stage = h('div.preview-stage#preview-stage', h('p.muted', 'Vorschau wird geladen …'))
  const pager = h('div.row.preview-pager')
  const heading = h('h2#preview-title', `${title} – ${version.filename}`)
  let dispose = null
  let objectUrl = null
  const dialog = h('dialog.preview#preview', { 'aria-labelledby': 'preview-title' },
    h('div.row', heading, h('span.spacer'),
      h('button', { type: 'button', id: 'preview-close', onclick: () => dialog.close() }, 'Schließen')),
    pager, stage)
  dialog.addEventListener('close', () => {
    if (dispose) dispose()
    if (objectUrl) URL.revokeObjectURL(objectUrl)
    dialog.remove()
  })
  document.body.append(dialog)
  dialog.showModal()
  ;(async () => {
    try {
      const response = await api(version.content_url, { raw: true })
      if (version.media_type === 'application/pdf') {
        dispose = await renderPdf(new Uint8Array(await response.arrayBuffer()), stage, pager)
      } else if (IMAGE_TYPES.has(version.media_type)) {
        objectUrl = URL.createObjectURL(await response.blob())
        clear(stage, h('img.preview-image', { src: objectUrl, alt: `${title} (${version.filename})` }))
        stage.dataset.rendered = 'image'
      } else {
        clear(stage, h('p', 'Für diesen Dateityp gibt es keine Vorschau. Bitte herunterladen.'))
      }
    } catch (err) {
      clear(stage, h('p.notice.error', { role: 'alert' }, `Vorschau nicht möglich: ${problemText(err)}`))
    }
  })()
  return dialog
}
