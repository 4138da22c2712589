// "Fristen": every running deadline of the authority, by end date; filter by kind and official.
import { api, problemText } from './api.js'
import { h, clear, notice, fmtDate } from './dom.js'

const PAGE = 50

export function renderDeadlines (main, navigate) {
  const kind = h('select', { id: 'deadline-kind', 'aria-label': 'Fristart' }, h('option', { value: '' }, 'Alle Fristarten'))
  const official = h('select', { id: 'deadline-official', 'aria-label': 'Sachbearbeitung' }, h('option', { value: '' }, 'Alle Sachbearbeiter'))
  const status = h('div')
  const table = h('div.scroll')
  const pager = h('div.pager')
  const count = h('span.muted#deadline-total')
  let offset = 0
  let kindsFilled = false

  const load = async () => {
    const query = new URLSearchParams({ offset, limit: PAGE })
    if (kind.value) query.set('kind', kind.value)
    if (official.value) query.set('official', official.value)
    notice(status, 'info', 'Lade …')
    try {
      const result = await api(`/api/v1/deadlines?${query}`)
      notice(status)
      if (!kindsFilled) {
        kind.append(...result.kinds.map((k) => h('option', { value: k.kind }, `${k.label_de} (${k.count})`)))
        kindsFilled = true
      }
      count.textContent = result.total === 1 ? '1 laufende Frist' : `${result.total} laufende Fristen`
      draw(result)
    } catch (err) {
      notice(status, 'error', problemText(err))
    }
  }

  const draw = (result) => {
    if (!result.items.length) clear(table, h('p.muted', 'Keine laufenden Fristen.'))
    else {
      clear(table, h('table.list.stack#deadlines',
        h('thead', h('tr', ['Fristende', 'Frist', 'Rechtsgrundlage', 'Aktenzeichen', 'Vorhaben', 'Sachbearbeitung'].map((t) => h('th', t)))),
        h('tbody', result.items.map((d) => h('tr.clickable', {
          class: d.overdue ? 'clickable overdue' : 'clickable',
          dataset: { caseId: d.case_id, kind: d.kind },
          onclick: () => navigate(`/app/cases/${d.case_id}`)
        },
        h('td', h('strong', fmtDate(d.due)), ' ',
          d.overdue ? h('span.badge.overdue', 'überschritten') : h('span.muted', d.days_left === 0 ? 'heute' : `in ${d.days_left} T.`)),
        h('td', d.label_de, d.fiction ? h('span.badge.fiction', 'Fiktion') : null),
        h('td.small', d.legal_basis),
        h('td', d.file_number),
        h('td', d.title),
        h('td', d.assignee ? d.assignee.name : h('span.muted', 'nicht zugewiesen')))))))
    }
    clear(pager,
      h('button', { disabled: offset === 0, onclick: () => { offset -= PAGE; load() } }, '‹ Zurück'),
      h('span.muted', `Seite ${Math.floor(offset / PAGE) + 1} von ${Math.max(1, Math.ceil(result.total / PAGE))}`),
      h('button', { disabled: offset + PAGE >= result.total, onclick: () => { offset += PAGE; load() } }, 'Weiter ›'))
  }

  kind.addEventListener('change', () => { offset = 0; load() })
  official.addEventListener('change', () => { offset = 0; load() })
  clear(main, h('div.row', h('h1', 'Fristen'), count), h('div.filters', kind, official), status, table, pager)
  api('/api/v1/directory?role=clerk').then((list) => {
    official.append(...list.items.map((m) => h('option', { value: m.sub }, m.name)))
  }).catch(() => {})
  load()
}
