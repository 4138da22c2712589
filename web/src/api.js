// Fetch wrapper: bearer token, JSON, RFC 9457 problem details as ApiError.
import { session, signOut, renewToken } from './auth.js'

export class ApiError extends Error {
  constructor (status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`)
    this.status = status
    this.problem = problem
    this.type = (problem.type || '').replace('urn:eakte:problem:', '')
  }
}

export function problemText (err) {
  if (!(err instanceof ApiError)) return String(err.message || err)
  const p = err.problem
  const reasons = (p.reasons || []).map((r) => r.de).join('; ')
  const errors = Array.isArray(p.errors) ? p.errors.filter((e) => e && typeof e === 'object') : []
  const fields = errors.map((e) => `${(e.loc || []).slice(-1)[0] || e.field || ''}: ${e.msg_de || e.msg || e.message || ''}`).join('; ')
  const detail = p.detail === p.title || p.detail === reasons || fields ? '' : p.detail
  return [p.title, detail, reasons, fields].filter(Boolean).join(' – ')
}

export async function parseProblem (status, text) {
  try {
    return new ApiError(status, JSON.parse(text))
  } catch {
    return new ApiError(status, { title: `HTTP ${status}`, detail: text.slice(0, 200) })
  }
}

export async function api (path, { method = 'GET', body, headers = {}, raw = false } = {}) {
  // problems (title, detail) in German: the server localises by Accept-Language
  const init = { method, headers: { 'Accept-Language': 'de', ...headers } }
  // an expired token is renewed first (dev sign-in again, OIDC refresh token); only when that
  // fails does the user have to sign in again
  const token = session()?.token || await renewToken()
  if (token) init.headers.Authorization = `Bearer ${token}`
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  let response = await fetch(path, init)
  if (response.status === 401 && token) {
    const fresh = await renewToken()
    if (fresh) {
      init.headers.Authorization = `Bearer ${fresh}`
      response = await fetch(path, init)
    }
    if (response.status === 401) signOut('Die Anmeldung ist abgelaufen. Bitte neu anmelden.')
  }
  if (!response.ok) throw await parseProblem(response.status, await response.text())
  if (raw) return response
  if (response.status === 204) return null
  return response.json()
}
