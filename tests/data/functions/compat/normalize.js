'use strict';
// Lambda@Edge viewer-request, CommonJS, async style: normalize the query string (lower-case
// names, sorted; AWS example "Normalize query string parameters") and the Accept-Language and
// User-Agent headers, for a better cache hit ratio.
const querystring = require('querystring');

exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    const headers = request.headers;

    /* When a request contains a query string key value pair but the origin does not care
     * about the case or the order of the keys, normalize them. */
    const params = querystring.parse(request.querystring.toLowerCase());
    const sortedParams = {};
    Object.keys(params).sort().forEach(key => {
        sortedParams[key] = params[key];
    });
    request.querystring = querystring.stringify(sortedParams);

    // Keep only the primary language: "de-CH,de;q=0.9,en;q=0.8" -> "de"
    if (headers['accept-language']) {
        const primary = headers['accept-language'][0].value.split(',')[0].split('-')[0].trim().toLowerCase();
        headers['accept-language'] = [{key: 'Accept-Language', value: primary || 'en'}];
    }

    // Replace the User-Agent by a device class
    if (headers['user-agent']) {
        const ua = headers['user-agent'][0].value;
        const device = /Mobile|Android|iPhone/.test(ua) ? 'mobile' : 'desktop';
        headers['x-device-type'] = [{key: 'X-Device-Type', value: device}];
        delete headers['user-agent'];
    }

    return request;
};
