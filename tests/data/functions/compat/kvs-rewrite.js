// CloudFront Functions, cloudfront-js-2.0, viewer-request: rewrite the first path segment
// through a KeyValueStore (aws-samples amazon-cloudfront-functions, kvs-key-value-pairs).
import cf from 'cloudfront';

// This fails if there is no key value store associated with the function
const kvsId = 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';
const kvsHandle = cf.kvs(kvsId);

async function handler(event) {
    const request = event.request;
    // Use the first segment of the pathname as key
    // For example http(s)://domain/<key>/something/else
    const pathSegments = request.uri.split('/');
    const key = pathSegments[1];
    let value = key;
    try {
        // Replace the first path of the pathname with the value of the key
        // For example http(s)://domain/<value>/something/else
        value = await kvsHandle.get(key);
    } catch (err) {
        console.log(`No key ${key} present in kvs`);
    }
    pathSegments[1] = value;
    request.uri = pathSegments.join('/');
    if (await kvsHandle.exists('banner')) {
        const banner = await kvsHandle.get('banner', {format: 'json'});
        request.headers['x-banner'] = {value: banner.text};
    }
    return request;
}
