// History of a case in plain German (who, when, what: GET /cases/{id}/history) and the named
// versions of the workspace (create, list, view, restore as a new attributed edit).
import { api, problemText } from './api.js'
import { hasRole } from './auth.js'
import { h, clear, notice, fmtDateTime } from './dom.js'

const SHOWN = 15

function viewDialog (title, text) {
  const dialog = h('dialog.preview#version-view', { 'aria-labelledby': 'version-view-title' },
    h('div.row', h('h2#version-view-title', title), h('span.spacer'),
      h('button', { type: 'button', onclick: () => dialog.close() }, 'Schließen')),
    h('pre.version-text', text))
  dialog.addEventListener('close', () => dialog.remove())
  document.body.append(dialog)
  dialog.showModal()
}

export function renderHistory (box, caseId) {
  const status = h('div#history-status')
  const events = h('ol.history#case-history')
  const versions = h('ul.items#workspace-versions')
  const writer = hasRole('clerk', 'approver', 'admin')
  let all = false
  let items = []

  const drawEvents = () => {
    const newest = items.slice().reverse()
    const shown = all ? newest : newest.slice(0, SHOWN)
    clear(events, shown.map((e) => h('li', { dataset: { action: e.action } },
      h('span.history-text', e.text), ' ', h('span.muted', `· ${fmtDateTime(e.at)}`))))
    if (!items.length) events.append(h('li.muted', 'Noch keine Einträge.'))
    more.hidden = all || newest.length <= SHOWN
  }
  const more = h('button.link', { type: 'button', id: 'history-all', hidden: true, onclick: () => { all = true; drawEvents() } }, 'Alle Einträge anzeigen')

  const name = h('input', { id: 'version-name', name: 'name', required: true, maxlength: 200, placeholder: 'z. B. Stand vor Ortstermin' })
  const create = writer
    ? h('form.row#version-create', {
      onsubmit: async (e) => {
        e.preventDefault()
        try {
          await api(`/api/v1/cases/${caseId}/workspace/versions`, { method: 'POST', body: { name: name.value.trim() } })
          notice(status, 'ok', `Version „${name.value.trim()}“ gesichert.`)
          name.value = ''
          load()
        } catch (err) { notice(status, 'error', problemText(err)) }
      }
    }, h('label', 'Name der Version *', name), h('button', { type: 'submit' }, 'Stand sichern'))
    : null

  const restore = async (v) => {
    if (!window.confirm(`Arbeitsstand auf die Version „${v.name}“ zurücksetzen? Das wird als neue Änderung von Ihnen gespeichert; nichts geht verloren.`)) return
    try {
      const result = await api(`/api/v1/cases/${caseId}/workspace/versions/${v.id}/restore`, { method: 'POST' })
      notice(status, 'ok', result.changed ? `Version „${v.name}“ wiederhergestellt.` : 'Der Arbeitsstand entsprach bereits dieser Version.')
      load()
    } catch (err) { notice(status, 'error', problemText(err)) }
  }
  const view = async (v) => {
    try {
      const response = await api(v.content_url, { raw: true })
      viewDialog(`Version „${v.name}“ vom ${fmtDateTime(v.created_at)}`, await response.text())
    } catch (err) { notice(status, 'error', problemText(err)) }
  }

  clear(box, h('div.row', h('h2', 'Verlauf'), h('span.spacer'),
    h('button.link', { type: 'button', id: 'history-reload', onclick: () => load() }, 'Neu laden')),
  status, events, more,
  h('h3', 'Gesicherte Versionen des Arbeitsstands'), versions, create)

  const load = async () => {
    try {
      const [history, named] = await Promise.all([
        api(`/api/v1/cases/${caseId}/history`),
        api(`/api/v1/cases/${caseId}/workspace/versions`)
      ])
      items = history.items
      drawEvents()
      clear(versions, named.items.slice().reverse().map((v) => h('li', { dataset: { versionId: v.id } },
        h('span', h('strong.version-name', v.name), h('span.muted', ` · ${v.created_by_name || v.created_by}, ${fmtDateTime(v.created_at)}`)),
        h('button.link', { type: 'button', onclick: () => view(v) }, 'Ansehen'),
        writer ? h('button.link', { type: 'button', onclick: () => restore(v) }, 'Wiederherstellen') : null)))
      if (!named.items.length) versions.append(h('li.muted', 'Noch keine gesicherten Versionen.'))
    } catch (err) {
      if (err.status === 403) clear(box, h('h2', 'Verlauf'), h('p.muted', 'Der Verlauf ist für Ihre Rolle nicht sichtbar.'))
      else notice(status, 'error', problemText(err))
    }
  }
  load()
  return load
}
