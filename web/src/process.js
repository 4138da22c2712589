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

// What a step with legal effect does, said before it is taken (issue 13).
const DECISION_LABELS = {
  baugenehmigung: 'die Baugenehmigung',
  ablehnungsbescheid: 'die Ablehnung des Bauantrags',
  vorbescheid: 'der Vorbescheid',
  verlaengerung: 'die Verlängerung der Geltungsdauer',
  fiktionsbescheinigung: 'die Bescheinigung über den Eintritt der Genehmigungsfiktion'
}
const ISSUED_VERB = {
  baugenehmigung: 'erteilt',
  ablehnungsbescheid: 'ausgesprochen',
  vorbescheid: 'erteilt',
  verlaengerung: 'gewährt',
  fiktionsbescheinigung: 'ausgestellt'
}
const WITHDRAWAL = 'ruecknahme_erklaeren'

export function confirmation (action) {
  if (action.id === WITHDRAWAL) {
    return {
      danger: true,
      text: 'Mit der Rücknahme des Antrags wird das Verfahren beendet; über den Antrag wird nicht mehr entschieden. ' +
        'Die Antragstellerin oder der Antragsteller wird benachrichtigt. Dieser Schritt lässt sich nicht rückgängig machen.',
      confirm: 'Antrag zurücknehmen'
    }
  }
  if (!action.issues_document) return null
  const kind = action.issues_document
  const what = DECISION_LABELS[kind] || `„${action.label.de}“`
  return {
    danger: kind === 'ablehnungsbescheid',
    kind,
    text: `Mit der Zeichnung wird ${what} ${ISSUED_VERB[kind] || 'erlassen'}` +
      (action.legal_basis ? ` (${action.legal_basis})` : '') +
      '. Wirksam wird die Entscheidung mit der Bekanntgabe. Bitte prüfen Sie das Schreiben in der Vorschau.',
    confirm: action.label.de
  }
}

// The sealed (or, while a draft, the previewed) PDF of the decision, as a blob: URL.
async function decisionPdf (caseId, kind) {
  const issued = await api(`/api/v1/cases/${caseId}/issued`)
  const mine = issued.filter((i) => i.letter_type === kind).reverse()
  const chosen = mine.find((i) => i.state !== 'draft') || mine[0]
  if (!chosen) return null
  const response = await api(chosen.state === 'draft' ? chosen.preview_url : chosen.content_url, { raw: true })
  const blob = new Blob([await response.arrayBuffer()], { type: 'application/pdf' })
  return { url: URL.createObjectURL(blob), issued: chosen }
}

// A modal dialog; resolves true on confirm, false on cancel (Esc counts as cancel).
function askToConfirm (caseId, action, info) {
  return new Promise((resolve) => {
    const frameSlot = h('div.preview-slot#sign-preview-slot', info.kind ? h('p.muted', 'Vorschau wird geladen …') : null)
    let blobUrl = null
    const done = (value) => {
      dialog.close()
      dialog.remove()
      if (blobUrl) URL.revokeObjectURL(blobUrl)
      resolve(value)
    }
    const dialog = h('dialog#confirm-action', { class: info.danger ? 'danger' : '', 'aria-labelledby': 'confirm-title' },
      h('h2#confirm-title', action.label.de),
      h('p#confirm-text', info.text),
      frameSlot,
      h('div.row',
        h('button#confirm-cancel', { type: 'button', onclick: () => done(false) }, 'Abbrechen'),
        h('span.spacer'),
        h('button#confirm-ok', { type: 'button', class: info.danger ? 'danger' : 'primary', onclick: () => done(true) }, info.confirm)))
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); done(false) })
    document.body.append(dialog)
    dialog.showModal()
    if (info.kind) {
      decisionPdf(caseId, info.kind).then((pdf) => {
        if (!pdf) {
          clear(frameSlot, h('div.notice.warn', `Es gibt noch kein Schreiben „${DECISION_LABELS[info.kind] || info.kind}“. Bitte zuerst entwerfen und siegeln.`))
          return
        }
        blobUrl = pdf.url
        clear(frameSlot,
          h('p.muted', `${pdf.issued.label_de} · Prüfnummer ${pdf.issued.verification_ref} · ${pdf.issued.state === 'draft' ? 'Entwurf' : 'gesiegelt'}`),
          h('iframe#sign-preview', { src: pdf.url, title: `Vorschau: ${pdf.issued.label_de}` }))
      }).catch((err) => clear(frameSlot, h('div.notice.error', problemText(err))))
    }
  })
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
    const info = confirmation(action)
    if (info && !(await askToConfirm(caseId, action, info))) {
      notice(status, 'info', `„${action.label.de}“ abgebrochen – nichts geändert.`)
      return
    }
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
    const danger = action.id === WITHDRAWAL
    const button = h('button', {
      class: `action${action.allowed ? (danger ? ' danger' : ' primary') : ''}`,
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
