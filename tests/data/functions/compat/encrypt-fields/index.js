'use strict';
// Lambda@Edge origin-request with include_body, CommonJS, callback style: encrypt the
// sensitive fields of a JSON body with RSA-OAEP (SHA-256) under the public key that sits next
// to this file, then replace the body sent to the origin.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

// Loaded once per instance, like any module-level setup of a Lambda function.
const publicKey = fs.readFileSync(path.join(__dirname, 'public.pem'), 'utf8');
const SENSITIVE = ['email', 'ssn', 'phone'];

function encrypt(value) {
    return crypto.publicEncrypt({
        key: publicKey,
        padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha256',
    }, Buffer.from(String(value), 'utf8')).toString('base64');
}

exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    if (!request.body || !request.body.data) {
        callback(null, request);
        return;
    }
    const body = JSON.parse(Buffer.from(request.body.data, 'base64').toString('utf8'));
    for (const field of SENSITIVE) {
        if (field in body) {
            body[field] = encrypt(body[field]);
        }
    }
    request.body.action = 'replace';
    request.body.encoding = 'text';
    request.body.data = JSON.stringify(body);
    request.headers['x-encrypted-fields'] = [{key: 'X-Encrypted-Fields', value: SENSITIVE.filter(f => f in body).join(',')}];
    callback(null, request);
};
