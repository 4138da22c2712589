// Signed download links of the E-Akte (issue 19): the answer to a refused link, as RFC 9457
// problem JSON in German or English (njs, Debian package libnginx-mod-http-js). nginx checks
// valid links itself (eakte-downloads.conf) and calls this only for a refusal, through
// `error_page … = @eakte_dl_problem`; here the link is checked again to name the reason, the
// same checks in the same order as eakte/documents/links.py (format 2):
//   /dl/MAC/EXPIRY/base64url(media type)/base64url(Content-Disposition)/OBJECT-KEY
//   MAC = base64url(HMAC-SHA256(K, "eakte-dl-2." + everything after "MAC/"))
// K is $eakte_dl_hkey (the key file written by `eakte download-links nginx-key`).
// The app's own GET /api/v1/dl/{token} gives the same answers where nginx does not serve.
import crypto from 'crypto';

const TOKEN = new RegExp('^/dl/([A-Za-z0-9_-]{43})/(([0-9]{10})/[A-Za-z0-9_-]{1,400}/'
    + '[A-Za-z0-9_-]{1,2700}/[a-z][a-z0-9-]{1,39}(?:/[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}){1,16})$');

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
    gone: [404, 'version-not-found',
        'Dokumentversion nicht gefunden', 'Document version not found',
        'Die verlinkte Dokumentversion gibt es nicht', 'the linked version does not exist'],
};

function reason(r) {
    const match = TOKEN.exec(r.uri);
    if (!match) return 'malformed';
    const mac = crypto.createHmac('sha256', r.variables.eakte_dl_hkey)
        .update('eakte-dl-2.' + match[2]).digest('base64url');
    if (mac !== match[1]) return 'forged';  // timing: nginx compared before (as digests)
    if (Date.now() / 1000 >= Number(match[3])) return 'expired';
    return 'gone';  // genuine and valid: nginx found no object under the key
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

// js_content of @eakte_dl_problem
function problem(r) {
    const p = PROBLEMS[reason(r)];
    const de = german(r);
    const body = { type: 'urn:eakte:problem:' + p[1], title: de ? p[2] : p[3], status: p[0],
        detail: de ? p[4] : p[5], instance: '/dl/' };
    if (de) body.detail_en = p[5];
    r.headersOut['Content-Type'] = 'application/problem+json';
    r.headersOut['Content-Language'] = de ? 'de' : 'en';
    r.headersOut['Vary'] = 'Accept-Language';
    r.headersOut['X-Content-Type-Options'] = 'nosniff';
    r.headersOut['Referrer-Policy'] = 'no-referrer';
    r.headersOut['Cache-Control'] = 'private, no-cache';
    r.return(p[0], JSON.stringify(body));
}

export default { problem };
