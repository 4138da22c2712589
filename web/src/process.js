// The procedure: state, deadlines with days left, actions as buttons, transition history.
import { api, problemText } from './api.js'
import { h, clear, notice, fmtDate, fmtDateTime, daysUntil } from './dom.js'
import { procedures } from './procedures.js'

function inputControl (field) {
  const name = field.name
  switch (field.type) {
    case 'bool': return h('input', { type: 'checkbox', name })
    case 'date': return h('input', { type: 'date', name, required: field.required })
    case 'int': return h('input', { type: 'number', name, step: 1, required: field.required })
    case 'list[string]': return h('textarea', { name, rows: 3, placeholder: 'ein Eintrag je Zeile', required: field.required })
    case 'text': return h('textarea', { name, rows: 3, required: field.required })
    default: return h('input', { name, required: field.required })
  }
}

function readInput (form, fields) {
  const input = {}
  for (const field of fields) {
    const el = form.elements[field.name]
    if (field.type === 'bool') input[field.name] = el.checked
    else if (field.type === 'int') { if (el.value !== '') input[field.name] = Number(el.value) } else if (field.type === 'list[string]') {
      const items = el.value.split('\n').map((x) => x.trim()).filter(Boolean)
      if (items.length || field.required) input[field.name] = items
    } else if (el.value !== '' || field.required) input[field.name] = el.value
  }
  return input
}

// the German label of a state: the current one from the view, others from the definition
const stateName = (view, state) => (state === view.state ? view.state_label.de : (labels.get(`${view.procedure}:${state}`) || state))
const labels = new Map()
procedures().then((list) => list.forEach((p) => p.states.forEach((s) => labels.set(`${p.id}:${s.id}`, s.label)))).catch(() => {})

const DEADLINE_STATUS = { cancelled: 'aufgehoben', fired: 'abgelaufen, Rechtsfolge eingetreten', expired: 'abgelaufen' }

function daysText (days) {
  if (days > 1) return `noch ${days} Tage`
  if (days === 1) return 'noch 1 Tag'
  if (days === 0) return 'läuft heute ab'
  return `seit ${-days} Tag${days === -1 ? '' : 'en'} abgelaufen`
}

export function renderProcess (box, caseId, { onChange } = {}) {
  const url = `/api/v1/cases/${caseId}/process`
  const status = h('div#process-status')
  const body = h('div')
  clear(box, h('div.row', h('h2', 'Verfahren'), h('span.spacer'),
    h('button.link', { id: 'process-reload', onclick: () => load() }, 'Neu laden')), status, body)

  const take = async (view, action, input) => {
    notice(status, 'info', `„${action.label.de}“ …`)
    try {
      const next = await api(`${url}/actions`, {
        method: 'POST',
        body: { action: action.id, expected_state: view.state, input }
      })
      notice(status, 'ok', `„${action.label.de}“ ausgeführt.`)
      draw(next)
      onChange && onChange()
    } catch (err) {
      if (err.status === 409) {
        notice(status, 'warn', 'Jemand anderes war schneller – neu geladen.')
        await load(true)
        onChange && onChange()
      } else {
        notice(status, 'error', problemText(err))
      }
    }
  }

  const actionItem = (view, action) => {
    const slot = h('div')
    const button = h('button', {
      class: action.allowed ? 'action primary' : 'action',
      disabled: !action.allowed,
      dataset: { action: action.id },
      onclick: () => {
        if (!action.input_fields.length) return take(view, action, {})
        if (slot.childElementCount) return clear(slot)
        const form = h('form.card.actionform', {
          onsubmit: (e) => { e.preventDefault(); take(view, action, readInput(form, action.input_fields)) }
        },
        action.input_fields.map((f) => f.type === 'bool'
          ? h('label.check', inputControl(f), f.label.de)
          : h('label', f.label.de + (f.required ? ' *' : ''), inputControl(f))),
        h('div.row', h('button.primary', { type: 'submit' }, 'Ausführen'), h('button', { type: 'button', onclick: () => clear(slot) }, 'Abbrechen')))
        clear(slot, form)
      }
    }, action.label.de)
    const reasons = action.allowed
      ? null
      : h('ul.reasons', action.blocked_reasons.map((r) => h('li', r.de)))
    return h('li', button, reasons, slot)
  }

  const draw = (view) => {
    const open = view.deadlines.filter((d) => d.status === 'running')
    const others = view.deadlines.filter((d) => !open.includes(d))
    const deadline = (d) => {
      const days = daysUntil(d.due)
      const urgent = open.includes(d) && days <= 7
      return h('li', { class: urgent ? 'urgent' : '' },
        h('strong', d.label.de), ` – bis ${fmtDate(d.due)}`,
        open.includes(d) ? h('span.badge', daysText(days)) : h('span.muted', ` (${DEADLINE_STATUS[d.status] || d.status})`))
    }
    clear(body,
      h('p', 'Zustand: ', h('strong#process-state', { dataset: { state: view.state } }, view.state_label.de),
        h('span.muted', ` seit ${fmtDateTime(view.state_since)}`), view.final ? h('span.badge', 'abgeschlossen') : null),
      h('h3', 'Fristen'),
      view.deadlines.length ? h('ul.deadlines', open.map(deadline), others.map(deadline)) : h('p.muted', 'Keine Fristen.'),
      h('h3', 'Mögliche Schritte'),
      view.available_actions.length
        ? h('ul.actions', view.available_actions.map((a) => actionItem(view, a)))
        : h('p.muted', 'Für Ihre Rolle gibt es gerade keine Schritte.'),
      view.participations.length ? [h('h3', 'Beteiligungen'), h('ul', view.participations.map((p) => h('li', `${p.party} (${p.kind}): ${p.status}${p.answer ? ' – ' + p.answer : ''}, Frist ${fmtDate(p.due)}`)))] : null,
      h('h3', 'Verlauf'),
      h('ol.history#transitions', view.transitions.slice().reverse().map((t) => h('li',
        h('strong', t.label.de), ' ', h('span.muted', `${fmtDateTime(t.at)} · ${t.actor_name || t.actor}`),
        t.to_state !== t.from_state ? h('span.muted', ` → ${stateName(view, t.to_state)}`) : null))))
  }

  // remote: another official changed the procedure; keep an open form, only say so
  const load = async (keepStatus, remote) => {
    if (remote && body.querySelector('.actionform')) {
      return notice(status, 'warn', 'Das Verfahren wurde von jemand anderem geändert – bitte neu laden.')
    }
    try {
      const view = await api(url)
      if (!keepStatus) notice(status)
      if (remote) notice(status, 'info', 'Von jemand anderem geändert – aktualisiert.')
      draw(view)
    } catch (err) {
      notice(status, 'error', problemText(err))
    }
  }
  load()
  return load
}
