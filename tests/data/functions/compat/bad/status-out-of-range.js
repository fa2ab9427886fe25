'use strict';
// Wrong: a status must be 200-599.
exports.handler = (event, context, callback) => {
    callback(null, {status: '700', statusDescription: 'Seven Hundred', body: 'nope'});
};
