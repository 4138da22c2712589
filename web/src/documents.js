// Documents of a case: drag-and-drop upload with progress, versions, downloads.
import { api, parseProblem, problemText } from './api.js'
import { session, canWrite } from './auth.js'
import { h, clear, notice, fmtBytes, fmtDateTime } from './dom.js'

let kindsCache = null
const kinds = () => (kindsCache = kindsCache || api('/api/v1/document-kinds').catch((e) => { kindsCache = null; throw e }))

function upload (url, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', url)
    xhr.setRequestHeader('Authorization', `Bearer ${session().token}`)
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total)
    xhr.onload = async () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(JSON.parse(xhr.responseText))
      else reject(await parseProblem(xhr.status, xhr.responseText))
    }
    xhr.onerror = () => reject(new Error('Netzwerkfehler beim Hochladen'))
    xhr.send(form)
  })
}

async function download (url, filename) {
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
  const kind = h('select', { id: 'upload-kind' })
  const title = h('input', { id: 'upload-title', placeholder: 'Titel (Standard: Dateiname)' })
  const file = h('input', { type: 'file', id: 'upload-file', multiple: true })
  const progress = h('progress', { max: 1, value: 0, hidden: true })

  const send = async (files) => {
    for (const f of files) {
      const form = new FormData()
      form.append('title', title.value.trim() || f.name)
      form.append('kind', kind.value)
      form.append('file', f, f.name)
      await sendForm(base, form, f.name)
    }
    title.value = ''
    file.value = ''
    refresh()
  }
  const sendForm = async (url, form, name) => {
    progress.hidden = false
    progress.value = 0
    notice(status, 'info', `„${name}“ wird hochgeladen …`)
    try {
      await upload(url, form, (p) => { progress.value = p; notice(status, 'info', `„${name}“: ${Math.round(p * 100)} %`) })
      notice(status, 'ok', `„${name}“ hochgeladen.`)
      onChange && onChange()
    } catch (err) {
      notice(status, 'error', `„${name}“ abgelehnt: ${problemText(err)}`)
    } finally {
      progress.hidden = true
    }
  }

  const drop = h('div.dropzone#dropzone',
    h('p', 'Dateien hierher ziehen oder auswählen'),
    h('div.row', kind, title), file, progress)
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
  kinds().then((items) => kind.append(...items.map((k) => h('option', { value: k.id }, k.label))))
    .catch((err) => notice(status, 'error', problemText(err)))

  const versions = async (doc, target) => {
    if (target.childElementCount) return clear(target)
    try {
      const full = await api(`${base}/${doc.id}`)
      clear(target, h('table.versions', h('tbody', full.versions.slice().reverse().map((v) => h('tr',
        h('td', `v${v.number}`),
        h('td', v.filename),
        h('td', fmtBytes(v.size)),
        h('td', v.media_type),
        h('td', `${v.created_by_name || v.created_by}, ${fmtDateTime(v.created_at)}`),
        h('td', v.comment || ''),
        h('td', h('button.link', { onclick: () => download(v.content_url, v.filename).catch((e) => notice(status, 'error', problemText(e))) }, 'Herunterladen')))))))
    } catch (err) {
      notice(status, 'error', problemText(err))
    }
  }

  const refresh = async () => {
    try {
      const result = await api(base)
      const items = result.items
      if (!items.length) return clear(list, h('p.muted', 'Noch keine Dokumente.'))
      clear(list, h('ul.docs', items.map((d) => {
        const history = h('div')
        const newVersion = h('input', { type: 'file', hidden: true })
        newVersion.addEventListener('change', async () => {
          const form = new FormData()
          form.append('file', newVersion.files[0], newVersion.files[0].name)
          await sendForm(`${base}/${d.id}/versions`, form, newVersion.files[0].name)
          refresh()
        })
        const v = d.latest_version
        return h('li.doc', { dataset: { documentId: d.id } },
          h('div.row',
            h('strong.doc-title', d.title), h('span.badge', d.kind_label), h('span.spacer'),
            h('span.muted', `v${v.number} · ${fmtBytes(v.size)} · ${fmtDateTime(v.created_at)}`)),
          h('div.row',
            h('button.link', { onclick: () => download(v.content_url, v.filename).catch((e) => notice(status, 'error', problemText(e))) }, 'Herunterladen'),
            h('button.link', { onclick: () => versions(d, history) }, `Versionen (${d.version_count})`),
            writable ? h('button.link', { onclick: () => newVersion.click() }, 'Neue Version') : null,
            newVersion),
          history)
      })))
    } catch (err) {
      if (err.status === 403) clear(list, h('p.muted', 'Die Dokumente sind für Ihre Rolle nicht sichtbar.'))
      else notice(status, 'error', problemText(err))
    }
  }
  refresh()
  return refresh
}
