'use strict';
// Lambda@Edge viewer-request, CommonJS, async style: a handler that requires a local module
// and a package from its own node_modules, as a deployment package would hold them.
const { greeting } = require('./lib/greeting');
const slugify = require('edge-slugify');

exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    const title = decodeURIComponent(request.uri.split('/').pop());
    request.headers['x-greeting'] = [{key: 'X-Greeting', value: greeting('edge')}];
    request.headers['x-slug'] = [{key: 'X-Slug', value: slugify(title)}];
    request.headers['x-slugify-version'] = [{key: 'X-Slugify-Version', value: slugify.version}];
    return request;
};
