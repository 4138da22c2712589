// "Meine Vorgänge" and "Zur Zeichnung": work lists with markers, sortable columns, total, paging.
import { api, problemText } from './api.js'
import { h, clear, notice, fmtDate } from './dom.js'

const PAGE = 25
const COLUMNS = [
  ['file_number', 'Aktenzeichen'],
  ['title', 'Vorhaben'],
  ['state', 'Zustand'],
  ['due', 'Nächste Frist'],
  ['updated_at', 'Zuletzt geändert']
]
const ROLE = { assignee: 'Sachbearbeitung', deputy: 'Vertretung', none: '' }

export function markerBadges (item) {
  const out = []
  if (item.overdue) out.push(h('span.badge.overdue', 'Frist überschritten'))
  if (item.fiction_detected) out.push(h('span.badge.fiction', 'Fiktion festgestellt'))
  if (item.markers.includes('fiction_soon')) {
    const n = item.fiction_in_days
    out.push(h('span.badge.fiction', {
      title: 'Genehmigungsfiktion, Art. 68 Abs. 2 BayBO / Art. 42a BayVwVfG'
    }, n === 0 ? 'Fiktion heute' : n === 1 ? 'Fiktion in 1 Tag' : `Fiktion in ${n} Tagen`))
  }
  return out
}

function deadlineCell (d) {
  if (!d) return h('span.muted', 'keine laufende Frist')
  const left = d.days_left < 0
    ? `seit ${-d.days_left} ${-d.days_left === 1 ? 'Tag' : 'Tagen'} abgelaufen`
    : d.days_left === 0 ? 'endet heute' : `noch ${d.days_left} ${d.days_left === 1 ? 'Tag' : 'Tage'}`
  return h('span', h('span', d.label_de), h('br'), h('strong', fmtDate(d.due)), h('span.muted', ` (${left})`))
}

// A work list page; `endpoint` answers {items, total, offset, limit}.
export function renderWorkList (main, navigate, { endpoint, heading, empty, id }) {
  const status = h('div')
  const table = h('div.scroll')
  const pager = h('div.pager')
  const count = h('span.muted#work-total')
  let sort = 'due'
  let order = 'asc'
  let offset = 0
  // the same ordering as the column headers, for narrow screens where the table is stacked
  const sorter = h('select#work-sort', { 'aria-label': 'Sortieren nach' },
    COLUMNS.flatMap(([key, label]) => [
      h('option', { value: `${key}:asc` }, `${label} aufsteigend`),
      h('option', { value: `${key}:desc` }, `${label} absteigend`)
    ]))
  sorter.addEventListener('change', () => { [sort, order] = sorter.value.split(':'); offset = 0; load() })

  const load = async () => {
    const query = new URLSearchParams({ sort, order, offset, limit: PAGE })
    notice(status, 'info', 'Lade …')
    try {
      const result = await api(`${endpoint}?${query}`)
      notice(status)
      sorter.value = `${sort}:${order}`
      count.textContent = result.total === 1 ? '1 Vorgang' : `${result.total} Vorgänge`
      draw(result)
    } catch (err) {
      notice(status, 'error', problemText(err))
    }
  }

  const header = ([key, label]) => {
    const active = key === sort
    const arrow = active ? (order === 'asc' ? ' ▲' : ' ▼') : ''
    return h('th', { 'aria-sort': active ? (order === 'asc' ? 'ascending' : 'descending') : 'none' },
      h('button.link.sort', {
        dataset: { sort: key },
        onclick: () => {
          if (active) order = order === 'asc' ? 'desc' : 'asc'
          else { sort = key; order = 'asc' }
          offset = 0
          load()
        }
      }, label + arrow))
  }

  const draw = (result) => {
    if (!result.items.length) {
      clear(table, h('p.muted', empty))
    } else {
      clear(table, h(`table.list.work.stack#${id}`,
        h('thead', h('tr', COLUMNS.map(header), h('th', 'Hinweise'), h('th', 'Zuständig'))),
        h('tbody', result.items.map((c) => h('tr.clickable', {
          dataset: { caseId: c.case_id, markers: c.markers.join(' ') },
          onclick: () => navigate(`/app/cases/${c.case_id}`)
        },
        h('td', h('a', { href: `/app/cases/${c.case_id}`, onclick: (e) => e.preventDefault() }, c.file_number)),
        h('td', c.title),
        h('td', { dataset: { label: 'Zustand' } }, c.state_label_de),
        h('td', { dataset: { label: 'Nächste Frist' } }, deadlineCell(c.next_deadline)),
        h('td', { dataset: { label: 'Zuletzt geändert' } }, fmtDate(c.updated_at)),
        h('td', markerBadges(c)),
        h('td', { dataset: { label: 'Zuständig' } }, c.assignee ? c.assignee.name : h('span.muted', 'nicht zugewiesen'),
          c.my_role !== 'none' ? h('span.badge', ROLE[c.my_role]) : null))))))
    }
    const pages = Math.max(1, Math.ceil(result.total / PAGE))
    const page = Math.floor(offset / PAGE) + 1
    clear(pager,
      h('button', { disabled: offset === 0, onclick: () => { offset -= PAGE; load() } }, '‹ Zurück'),
      h('span.muted', `Seite ${page} von ${pages}`),
      h('button', { disabled: offset + PAGE >= result.total, onclick: () => { offset += PAGE; load() } }, 'Weiter ›'))
  }

  clear(main, h('div.row', h('h1', heading), count, h('span.spacer'), sorter), status, table, pager)
  load()
}

export function renderMyCases (main, navigate) {
  renderWorkList(main, navigate, {
    endpoint: '/api/v1/worklist/mine',
    heading: 'Meine Vorgänge',
    empty: 'Ihnen sind keine Vorgänge zugewiesen (weder als Sachbearbeitung noch als Vertretung).',
    id: 'my-cases'
  })
}

export function renderSigning (main, navigate) {
  renderWorkList(main, navigate, {
    endpoint: '/api/v1/worklist/signing',
    heading: 'Zur Zeichnung',
    empty: 'Keine Entscheidung wartet auf Ihre Zeichnung.',
    id: 'signing'
  })
}
