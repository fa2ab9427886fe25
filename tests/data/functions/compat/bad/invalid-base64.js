'use strict';
// Wrong: bodyEncoding base64 with a body that is not base64.
exports.handler = async () => ({
    status: '200',
    headers: {'content-type': [{key: 'Content-Type', value: 'image/png'}]},
    bodyEncoding: 'base64',
    body: 'this is *not* base64!',
});
