'use strict';
// A syntax error on line 6: the config check must name the file and the line.
exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    if (request.uri === '/') {
        return request;;)
    }
    return request;
};
