// German throughout (issue 16): role names, procedure labels, the one date format and the
// browser's own form validation messages in German (not the browser's language).

export const ROLE_LABELS = {
  clerk: 'Sachbearbeitung',
  approver: 'Zeichnung',
  agency: 'Fachstelle',
  auditor: 'Prüfung',
  admin: 'Verwaltung',
  postroom: 'Poststelle',
  applicant: 'Antragsteller'
}

export const roleLabels = (roles) => (roles || []).map((r) => ROLE_LABELS[r] || r).join(', ')

// "Vereinfachtes Baugenehmigungsverfahren (Art. 59 BayBO)": the title with the first norm
export function procedureLabel (p) {
  if (!p) return ''
  const basis = (p.legal_basis || '').split(';')[0].trim()
  return basis ? `${p.title} (${basis})` : p.title
}

const pad = (n) => String(n).padStart(2, '0')

// TT.MM.JJJJ everywhere; times as TT.MM.JJJJ, HH:MM
export function formatDate (value) {
  if (!value) return ''
  const d = new Date(value.length === 10 ? value + 'T00:00:00' : value)
  if (Number.isNaN(d.getTime())) return String(value)
  return `${pad(d.getDate())}.${pad(d.getMonth() + 1)}.${d.getFullYear()}`
}

export function formatDateTime (value) {
  if (!value) return ''
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return String(value)
  return `${formatDate(value)}, ${pad(d.getHours())}:${pad(d.getMinutes())} Uhr`
}

// The message for an invalid form control, in German
export function validityMessage (el) {
  const v = el.validity
  if (v.valueMissing) return el.type === 'checkbox' ? 'Bitte bestätigen.' : (el.tagName === 'SELECT' ? 'Bitte auswählen.' : 'Bitte ausfüllen.')
  if (v.typeMismatch && el.type === 'email') return 'Bitte eine gültige E-Mail-Adresse angeben (z. B. name@example.org).'
  if (v.typeMismatch) return 'Bitte einen gültigen Wert angeben.'
  if (v.badInput && el.type === 'date') return 'Bitte ein gültiges Datum angeben (TT.MM.JJJJ).'
  if (v.badInput || v.stepMismatch) return 'Bitte eine ganze Zahl angeben.'
  if (v.tooLong) return `Höchstens ${el.maxLength} Zeichen.`
  if (v.tooShort) return `Mindestens ${el.minLength} Zeichen.`
  if (v.rangeUnderflow) return `Mindestens ${el.min}.`
  if (v.rangeOverflow) return `Höchstens ${el.max}.`
  if (v.patternMismatch) return el.title || 'Bitte das verlangte Format einhalten.'
  return 'Bitte die Eingabe prüfen.'
}

// One place for every form of the app: German messages instead of the browser's language.
// A control with a server reason (data-server-reason) keeps it until its next check.
export function installGermanValidation (doc = document) {
  doc.addEventListener('invalid', (e) => {
    const el = e.target
    if (el.dataset && el.dataset.serverReason) return
    el.setCustomValidity('')
    // validity is live; checkValidity() here would fire `invalid` again (endless recursion)
    if (!el.validity.valid) el.setCustomValidity(validityMessage(el))
  }, true)
  const reset = (e) => {
    const el = e.target
    if (el && el.setCustomValidity && !(el.dataset && el.dataset.serverReason)) el.setCustomValidity('')
  }
  doc.addEventListener('input', reset, true)
  doc.addEventListener('change', reset, true)
}
