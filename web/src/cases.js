// The tenant's case list: search, filters, cursor paging, and creating a case.
import { api, problemText } from './api.js'
import { hasRole, canWrite } from './auth.js'
import { h, clear, notice, fmtDate, labelCells } from './dom.js'
import { procedures, stateLabel, procedureName } from './procedures.js'
import { procedureLabel, validityMessage } from './i18n.js'

const PAGE = 20

export function renderCaseList (main, navigate) {
  const params = new URLSearchParams(location.search)
  const q = h('input', { type: 'search', id: 'search', 'aria-label': 'Suche', placeholder: 'Suche: Aktenzeichen, Titel, Adresse, Antragsteller', value: params.get('q') || '' })
  const procedure = h('select', { id: 'filter-procedure', 'aria-label': 'Verfahren' }, h('option', { value: '' }, 'Alle Verfahren'))
  const state = h('select', { id: 'filter-state', 'aria-label': 'Zustand' }, h('option', { value: '' }, 'Alle Zustände'))
  const status = h('div')
  const table = h('div')
  const pager = h('div.pager')
  let procs = []
  let cursors = [null]
  let page = 0

  const fillStates = () => {
    const chosen = procs.filter((p) => !procedure.value || p.id === procedure.value)
    const seen = new Map()
    for (const p of chosen) for (const s of p.states) if (!seen.has(s.id)) seen.set(s.id, s.label)
    const keep = state.value
    clear(state, h('option', { value: '' }, 'Alle Zustände'),
      [...seen].map(([id, label]) => h('option', { value: id, selected: id === keep }, label)))
  }

  const load = async () => {
    const query = new URLSearchParams({ limit: PAGE })
    if (q.value.trim()) query.set('q', q.value.trim())
    if (procedure.value) query.set('procedure', procedure.value)
    if (state.value) query.set('state', state.value)
    if (cursors[page]) query.set('cursor', cursors[page])
    notice(status, 'info', 'Lade …')
    try {
      const result = await api(`/api/v1/cases?${query}`)
      notice(status)
      cursors[page + 1] = result.next_cursor
      renderRows(result.items)
      clear(pager,
        h('button', { disabled: page === 0, onclick: () => { page--; load() } }, '‹ Zurück'),
        h('span.muted', `Seite ${page + 1}`),
        h('button', { disabled: !result.next_cursor, onclick: () => { page++; load() } }, 'Weiter ›'))
    } catch (err) {
      notice(status, 'error', problemText(err))
    }
  }

  const restart = () => {
    cursors = [null]
    page = 0
    const url = new URLSearchParams()
    if (q.value.trim()) url.set('q', q.value.trim())
    history.replaceState(null, '', location.pathname + (url.toString() ? `?${url}` : ''))
    load()
  }

  const renderRows = (items) => {
    if (!items.length) return clear(table, h('p.muted', 'Keine Vorgänge gefunden.'))
    clear(table, h('div.table-wrap', h('table.list',
      h('thead', h('tr', ['Aktenzeichen', 'Vorhaben', 'Ort', 'Antragsteller', 'Verfahren', 'Zustand', 'Angelegt'].map((t) => h('th', t)))),
      h('tbody', items.map((c) => h('tr', {
        class: 'clickable',
        dataset: { caseId: c.id },
        onclick: () => navigate(`/app/cases/${c.id}`)
      },
      h('td', h('a', {
        href: `/app/cases/${c.id}`,
        onclick: (e) => { if (e.ctrlKey || e.metaKey || e.shiftKey) e.stopPropagation(); else e.preventDefault() }
      }, c.file_number)),
      h('td', c.title),
      h('td', c.site.address),
      h('td', c.applicant.name),
      h('td', procedureName(procs, c.procedure)),
      h('td', stateLabel(procs, c.procedure, c.state)),
      h('td', fmtDate(c.created_at))))))))
    labelCells(table)
  }

  let timer
  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(restart, 300) })
  procedure.addEventListener('change', () => { fillStates(); restart() })
  state.addEventListener('change', restart)

  const createBox = h('div')
  // only those who may create a case (POST /cases: clerk, admin) are offered it
  const newButton = hasRole('clerk', 'admin')
    ? h('button.primary', { id: 'new-case', disabled: true, onclick: () => renderCreate(createBox, procs, navigate) }, 'Neuer Vorgang')
    : null

  clear(main,
    h('div.row', h('h1', 'Vorgänge'), h('span.spacer'), newButton),
    createBox,
    h('div.filters', q, procedure, state),
    status, table, pager)

  procedures().then((list) => {
    procs = list
    if (newButton) newButton.disabled = false // the form needs the procedures
    procedure.append(...list.map((p) => h('option', { value: p.id }, procedureLabel(p))))
    fillStates()
  }).catch((err) => notice(status, 'error', problemText(err))).finally(load)
}

function renderCreate (box, procs, navigate) {
  const status = h('div')
  const field = (label, input) => h('label', label, input)
  const f = {
    title: h('input', { name: 'title', required: true, maxlength: 300 }),
    procedure: h('select', { name: 'procedure' }, procs.map((p) => h('option', { value: p.id, selected: p.id === 'baybo-59' }, procedureLabel(p)))),
    address: h('input', { name: 'address', required: true }),
    gemarkung: h('input', { name: 'gemarkung' }),
    flurstueck: h('input', { name: 'flurstueck', placeholder: 'z. B. 1234/5' }),
    applicant: h('input', { name: 'applicant_name', required: true }),
    email: h('input', { name: 'applicant_email', type: 'email' }),
    housing: h('input', { name: 'housing', type: 'checkbox' }),
    received: h('input', { name: 'received_on', type: 'date', required: true, value: new Date().toLocaleDateString('sv-SE'), max: new Date().toLocaleDateString('sv-SE') }),
    description: h('textarea', { name: 'description', rows: 3 })
  }
  const required = (label) => h('span', label, h('span.req', { 'aria-hidden': 'true' }, ' *'))
  const form = h('form.card.grid', {
    id: 'create-case',
    novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault()
      const missing = [[f.title, 'Vorhaben'], [f.address, 'Adresse'], [f.applicant, 'Antragsteller'], [f.received, 'Eingangsdatum']]
        .filter(([input]) => !input.value.trim())
      if (missing.length) {
        missing[0][0].focus()
        return notice(status, 'error', `Bitte ausfüllen: ${missing.map(([, label]) => label).join(', ')}`)
      }
      // the other checks of the fields (e.g. the e-mail address), with German messages
      const invalid = [...form.elements].find((el) => el.willValidate && !el.validity.valid)
      if (invalid) {
        invalid.setCustomValidity(validityMessage(invalid))
        invalid.focus()
        return notice(status, 'error', invalid.validationMessage)
      }
      const body = {
        title: f.title.value,
        procedure: f.procedure.value,
        site: { address: f.address.value, gemarkung: f.gemarkung.value, flurstueck: f.flurstueck.value },
        applicant: { name: f.applicant.value, ...(f.email.value ? { email: f.email.value } : {}) },
        description: f.description.value,
        housing: f.housing.checked,
        received_on: f.received.value
      }
      try {
        const created = await api('/api/v1/cases', { method: 'POST', body })
        navigate(`/app/cases/${created.id}`)
      } catch (err) {
        notice(status, 'error', problemText(err))
      }
    }
  },
  h('h2.wide', 'Neuer Vorgang'),
  h('p.wide.muted', 'Pflichtfelder sind mit * markiert.'),
  field(required('Vorhaben (Titel)'), f.title), field(required('Verfahren'), f.procedure),
  field(required('Adresse'), f.address), field('Gemarkung', f.gemarkung), field('Flurstück', f.flurstueck),
  field(required('Antragsteller'), f.applicant), field('E-Mail Antragsteller', f.email),
  field(required('Eingangsdatum'), f.received),
  h('p.muted.small', 'Tag des Eingangs bei der Behörde; bei Papieranträgen, die früher eingegangen sind, laufen die Fristen ab diesem Tag.'),
  h('label.check', f.housing, 'überwiegend Wohnnutzung (Genehmigungsfiktion möglich)'),
  h('label.wide', 'Beschreibung', f.description),
  h('div.wide', status),
  h('div.wide.row', h('button.primary', { type: 'submit' }, 'Anlegen'), h('button', { type: 'button', onclick: () => clear(box) }, 'Abbrechen')))
  clear(box, form)
  f.title.focus()
}
