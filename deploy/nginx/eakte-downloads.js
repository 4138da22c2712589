// Signed download links of the E-Akte (issue 19), checked by nginx (njs, Debian package
// libnginx-mod-http-js). The same format as eakte/documents/links.py:
//   token = base64url(payload) "." base64url(HMAC-SHA256(secret, "eakte-dl-1." + payload))
//   payload = {"t": tenant, "k": object key "<tenant>/<case>/<document>/<version>",
//              "e": expiry (Unix seconds), "m": media type, "d": Content-Disposition}
// The secret is the file named by $eakte_dl_secret_file (EAKTE_DOWNLOAD_LINK_SECRET_FILE).
// The app's own GET /api/v1/dl/{token} gives the same answers where nginx does not serve.
import crypto from 'crypto';
import fs from 'fs';

const TOKEN = /^\/dl\/([A-Za-z0-9_-]{1,4000})\.([A-Za-z0-9_-]{43})$/;
const KEY = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;
let checked = null;  // one request's verdict (njs gives every request its own VM)

const PROBLEMS = {
    malformed: [404, 'download-link-invalid',
        'Der Download-Link ist fehlerhaft', 'The download link is malformed',
        'Der Download-Link ist fehlerhaft oder unvollständig', 'the download link is malformed'],
    forged: [403, 'download-link-forged',
        'Der Download-Link ist nicht echt', 'The download link is not genuine',
        'Die Signatur des Download-Links ist ungültig',
        "the download link's signature is not valid"],
    expired: [403, 'download-link-expired',
        'Der Download-Link ist abgelaufen', 'The download link has expired',
        'Der Download-Link ist abgelaufen; bitte in der E-Akte neu anfordern',
        'the download link has expired; ask the E-Akte for a new one'],
};

function same(a, b) {  // constant time for equal lengths
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
    return diff === 0;
}

function check(r) {
    if (checked !== null) return checked;
    checked = { error: 'malformed' };
    const match = TOKEN.exec(r.uri);
    if (!match) return checked;
    const secret = fs.readFileSync(r.variables.eakte_dl_secret_file).toString().trim();
    const mac = crypto.createHmac('sha256', secret).update('eakte-dl-1.' + match[1])
        .digest('base64url');
    if (!same(mac, match[2])) return (checked = { error: 'forged' });
    let body;
    try {
        body = JSON.parse(Buffer.from(match[1], 'base64url').toString());
    } catch (e) {
        return (checked = { error: 'forged' });
    }
    const key = String(body.k);
    if (!KEY.test(key) || key.indexOf(String(body.t) + '/') !== 0) {
        return (checked = { error: 'forged' });
    }
    if (Date.now() / 1000 >= Number(body.e)) return (checked = { error: 'expired' });
    return (checked = { key: key, type: String(body.m), disposition: String(body.d) });
}

function german(r) {  // Accept-Language as the app negotiates it: the higher q of de and en
    let best = null;
    const parts = (r.headersIn['Accept-Language'] || '').split(',').slice(0, 20);
    for (let i = 0; i < parts.length; i++) {
        const m = /^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]{1,5}))?\s*$/
            .exec(parts[i]);
        if (!m) continue;
        const lang = m[1].toLowerCase();
        const q = m[2] === undefined ? 1 : Number(m[2]);
        if ((lang === 'de' || lang === 'en') && q > 0 && (best === null || q > best.q)) {
            best = { q: q, lang: lang };
        }
    }
    return best !== null && best.lang === 'de';
}

// $eakte_dl_status: "" for a valid link, else the HTTP status to answer with
function status(r) {
    const v = check(r);
    return v.error ? String(PROBLEMS[v.error][0]) : '';
}

// $eakte_dl_key: the object key to serve (relative to the store's objects directory)
function key(r) {
    const v = check(r);
    return v.error ? '.invalid' : v.key;
}

// $eakte_dl_problem: the RFC 9457 problem JSON of a refused link
function problem(r) {
    const v = check(r);
    if (!v.error) return '';
    const p = PROBLEMS[v.error];
    const de = german(r);
    const body = { type: 'urn:eakte:problem:' + p[1], title: de ? p[2] : p[3], status: p[0],
        detail: de ? p[4] : p[5], instance: '/dl/' };
    if (de) body.detail_en = p[5];
    return JSON.stringify(body);
}

// Headers through add_header and these variables ("" leaves a header out): a js_header_filter
// would cost about a third of the small-file throughput (measured, njs 0.7.9)

// $eakte_dl_type: the media type the link names
function type(r) {
    const v = check(r);
    return v.error ? '' : v.type;
}

// $eakte_dl_disposition: the Content-Disposition the link names
function disposition(r) {
    const v = check(r);
    return v.error ? '' : v.disposition;
}

// $eakte_dl_problem_type, $eakte_dl_language: the headers of a refused link's problem JSON
function problemType(r) {
    return check(r).error ? 'application/problem+json' : '';
}

function language(r) {
    return check(r).error ? (german(r) ? 'de' : 'en') : '';
}

export default { status, key, problem, type, disposition, problemType, language };
