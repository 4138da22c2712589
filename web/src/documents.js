// Documents of a case: drag-and-drop upload with progress, preview, versions, downloads;
// retitle, change kind and withdraw with a reason (a withdrawn document stays listed, marked).
import { api, parseProblem, problemText } from './api.js'
import { session, canWrite, hasRole } from './auth.js'
import { h, clear, notice, fmtBytes, fmtDateTime, labelCells } from './dom.js'
import { openPreview, canPreview } from './preview.js'

let kindsCache = null
const kinds = () => (kindsCache = kindsCache || api('/api/v1/document-kinds').catch((e) => { kindsCache = null; throw e }))

function upload (url, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', url)
    xhr.setRequestHeader('Authorization', `Bearer ${session().token}`)
    xhr.setRequestHeader('Accept-Language', 'de')
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total)
    xhr.onload = async () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(JSON.parse(xhr.responseText))
      else reject(await parseProblem(xhr.status, xhr.responseText))
    }
    xhr.onerror = () => reject(new Error('Netzwerkfehler beim Hochladen'))
    xhr.send(form)
  })
}

// Fetch with the session's token and hand the bytes to the browser as a file
export async function download (url, filename) {
  const response = await api(url, { raw: true })
  const blob = await response.blob()
  const a = h('a', { href: URL.createObjectURL(blob), download: filename })
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 10000)
}

export function renderDocuments (box, caseId, { onChange } = {}) {
  const base = `/api/v1/cases/${caseId}/documents`
  const writable = canWrite()
  const list = h('div#document-list')
  const status = h('div#upload-status')
  const editable = hasRole('clerk', 'admin')
  const officials = hasRole('clerk', 'approver', 'auditor', 'admin')
  const kind = h('select', { id: 'upload-kind' })
  const title = h('input', { id: 'upload-title', placeholder: 'Standard: Dateiname', maxlength: 300 })
  // the browser's own file button speaks the browser's language: a German button instead
  const file = h('input.sr-only', { type: 'file', id: 'upload-file', multiple: true, tabindex: '-1', 'aria-hidden': 'true' })
  const pick = h('button', { type: 'button', id: 'upload-pick', onclick: () => file.click() }, 'Dateien auswählen …')
  const progress = h('progress', { max: 1, value: 0, hidden: true })

  const send = async (files) => {
    let added = 0
    for (const f of files) {
      const form = new FormData()
      form.append('title', title.value.trim() || f.name)
      form.append('kind', kind.value)
      form.append('file', f, f.name)
      if (await sendForm(base, form, f.name)) added++
    }
    title.value = ''
    file.value = ''
    if (added) refresh() // a rejected upload changes nothing: keep open forms as they are
  }
  const sendForm = async (url, form, name) => {
    progress.hidden = false
    progress.value = 0
    notice(status, 'info', `„${name}“ wird hochgeladen …`)
    try {
      await upload(url, form, (p) => { progress.value = p; notice(status, 'info', `„${name}“: ${Math.round(p * 100)} %`) })
      notice(status, 'ok', `„${name}“ hochgeladen.`)
      onChange && onChange()
      return true
    } catch (err) {
      notice(status, 'error', `„${name}“ abgelehnt: ${problemText(err)}`)
      return false
    } finally {
      progress.hidden = true
    }
  }

  const drop = h('div.dropzone#dropzone',
    h('p', 'Dateien hierher ziehen oder auswählen'),
    h('div.row', h('label', 'Art', kind), h('label', 'Titel', title)),
    h('div.row', pick, file), progress)
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over') })
  drop.addEventListener('dragleave', () => drop.classList.remove('over'))
  drop.addEventListener('drop', (e) => {
    e.preventDefault()
    drop.classList.remove('over')
    if (e.dataTransfer.files.length) send([...e.dataTransfer.files])
  })
  file.addEventListener('change', () => file.files.length && send([...file.files]))

  clear(box, h('div.row', h('h2', 'Dokumente'), h('span.spacer'),
    h('button.link', { id: 'documents-reload', onclick: () => refresh() }, 'Neu laden')),
  writable ? drop : null, status, list)
  let kindList = []
  kinds().then((items) => { kindList = items; kind.append(...items.map((k) => h('option', { value: k.id }, k.label))) })
    .catch((err) => notice(status, 'error', problemText(err)))
  const fail = (e) => notice(status, 'error', problemText(e))

  // retitle / reclassify (PATCH) and withdraw with a reason, in a small form under the entry
  const editForm = (d, slot) => {
    if (slot.querySelector('form.edit')) return clear(slot)
    const t = h('input', { name: 'title', value: d.title, required: true, maxlength: 300, id: `edit-title-${d.id}` })
    const k = h('select', { name: 'kind', id: `edit-kind-${d.id}` },
      kindList.map((x) => h('option', { value: x.id, selected: x.id === d.kind }, x.label)))
    clear(slot, h('form.card.actionform.edit', {
      onsubmit: async (e) => {
        e.preventDefault()
        try {
          await api(`${base}/${d.id}`, { method: 'PATCH', body: { title: t.value.trim(), kind: k.value } })
          notice(status, 'ok', `„${t.value.trim()}“ gespeichert.`)
          onChange && onChange()
          refresh()
        } catch (err) { fail(err) }
      }
    }, h('label', 'Titel *', t), h('label', 'Art', k),
    h('div.row', h('button.primary', { type: 'submit' }, 'Speichern'), h('button', { type: 'button', onclick: () => clear(slot) }, 'Abbrechen'))))
    t.focus()
  }
  const withdrawForm = (d, slot) => {
    if (slot.querySelector('form.withdraw')) return clear(slot)
    const reason = h('textarea', { name: 'reason', required: true, minlength: 3, maxlength: 2000, rows: 2, id: `withdraw-reason-${d.id}` })
    clear(slot, h('form.card.actionform.withdraw', {
      onsubmit: async (e) => {
        e.preventDefault()
        try {
          await api(`${base}/${d.id}/withdrawal`, { method: 'POST', body: { reason: reason.value.trim() } })
          notice(status, 'ok', `„${d.title}“ zurückgezogen; es bleibt als Teil der Akte erhalten.`)
          onChange && onChange()
          refresh()
        } catch (err) { fail(err) }
      }
    }, h('p', 'Das Dokument wird zurückgezogen: Es bleibt mit allen Versionen und dem Grund in der Akte, wird aber nicht mehr als gültige Unterlage geführt.'),
    h('label', 'Grund des Zurückziehens *', reason),
    h('div.row', h('button.danger', { type: 'submit' }, 'Zurückziehen'), h('button', { type: 'button', onclick: () => clear(slot) }, 'Abbrechen'))))
    reason.focus()
  }

  const versions = async (doc, target) => {
    if (target.childElementCount) return clear(target)
    try {
      const full = await api(`${base}/${doc.id}`)
      clear(target, h('div.table-wrap', labelCells(h('table.versions',
        h('caption.sr-only', `Versionen von „${doc.title}“`),
        h('thead', h('tr', ['Version', 'Datei', 'Hochgeladen', h('span.sr-only', 'Aktionen')].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', full.versions.slice().reverse().map((v) => h('tr',
          h('td', `v${v.number}`),
          h('td.filename', h('span', v.filename), h('span.sub', fmtBytes(v.size))),
          h('td', h('span', v.created_by_name || v.created_by), h('span.sub', fmtDateTime(v.created_at)),
            v.comment ? h('span.sub', v.comment) : null),
          h('td.actions',
            canPreview(v.media_type) ? h('button.link', { type: 'button', onclick: () => openPreview(v, doc.title) }, 'Vorschau') : null,
            h('button.link', { type: 'button', onclick: () => download(v.content_url, v.filename).catch(fail) }, 'Herunterladen')))))))))
    } catch (err) {
      fail(err)
    }
  }

  const refresh = async () => {
    try {
      const result = await api(base + (officials ? '?include_withdrawn=true' : ''))
      const items = result.items
      if (!items.length) return clear(list, h('p.muted', 'Noch keine Dokumente.'))
      clear(list, h('ul.docs', items.map((d) => {
        const history = h('div')
        const slot = h('div')
        const v = d.latest_version
        if (d.withdrawn) {
          return h('li.doc.withdrawn', { dataset: { documentId: d.id } },
            h('div.row',
              h('s.doc-title', d.title), h('span.badge', d.kind_label), h('span.badge.withdrawn-badge', 'zurückgezogen')),
            h('p.muted.withdrawn-reason', `Zurückgezogen am ${fmtDateTime(d.deleted_at)}. Grund: ${d.withdrawn_reason || '–'}`))
        }
        const newVersion = h('input', { type: 'file', hidden: true, 'aria-label': `Neue Version von ${d.title}` })
        newVersion.addEventListener('change', async () => {
          const form = new FormData()
          form.append('file', newVersion.files[0], newVersion.files[0].name)
          if (await sendForm(`${base}/${d.id}/versions`, form, newVersion.files[0].name)) refresh()
        })
        const preview = canPreview(v.media_type)
        return h('li.doc', { dataset: { documentId: d.id } },
          h('div.row',
            preview
              ? h('button.link.doc-title', { type: 'button', title: 'Vorschau öffnen', onclick: () => openPreview(v, d.title) }, d.title)
              : h('strong.doc-title', d.title),
            h('span.badge', d.kind_label), h('span.spacer'),
            h('span.muted', `v${v.number} · ${fmtBytes(v.size)} · ${v.created_by_name || v.created_by}, ${fmtDateTime(v.created_at)}`)),
          h('div.row',
            preview ? h('button.link', { type: 'button', onclick: () => openPreview(v, d.title) }, 'Vorschau') : null,
            h('button.link', { type: 'button', onclick: () => download(v.content_url, v.filename).catch(fail) }, 'Herunterladen'),
            h('button.link', { type: 'button', onclick: () => versions(d, history) }, `Versionen (${d.version_count})`),
            writable ? h('button.link', { type: 'button', onclick: () => newVersion.click() }, 'Neue Version') : null,
            editable ? h('button.link', { type: 'button', onclick: () => editForm(d, slot) }, 'Bearbeiten') : null,
            editable ? h('button.link.remove', { type: 'button', onclick: () => withdrawForm(d, slot) }, 'Zurückziehen') : null,
            newVersion),
          slot, history)
      })))
    } catch (err) {
      if (err.status === 403) clear(list, h('p.muted', 'Die Dokumente sind für Ihre Rolle nicht sichtbar.'))
      else fail(err)
    }
  }
  refresh()
  return refresh
}
