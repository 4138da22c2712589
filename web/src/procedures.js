// Procedure definitions (cached): titles and state labels for lists and filters.
import { api } from './api.js'
import { procedureLabel } from './i18n.js'

let cache = null

export function procedures () {
  if (!cache) {
    cache = (async () => {
      const list = await api('/api/v1/procedures')
      const details = await Promise.all(list.items.map((p) => api(`/api/v1/procedures/${p.id}`)))
      return list.items.map((p, i) => ({
        id: p.id,
        title: p.title.de,
        legal_basis: p.legal_basis,
        states: details[i].definition.states.map((s) => ({ id: s.id, label: s.label.de }))
      }))
    })()
    cache.catch(() => { cache = null })
  }
  return cache
}

export function stateLabel (procs, procedure, state) {
  const p = procs.find((x) => x.id === procedure)
  return p?.states.find((s) => s.id === state)?.label || state
}

export function procedureName (procs, procedure) {
  const p = procs.find((x) => x.id === procedure)
  return p ? procedureLabel(p) : procedure
}
