'use strict';
// Wrong: Connection is a disallowed header in a generated response.
exports.handler = async () => ({
    status: '200',
    headers: {connection: [{key: 'Connection', value: 'close'}]},
    body: 'ok',
});
