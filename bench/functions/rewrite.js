// Header rewrite as a CloudFront Function on viewer-request; nginx-rewrite.js does the same
// work in njs. For /products/shoes/?id=42&lang=EN-GB&sort=price the origin gets
//   GET /v2/products/shoes/?id=42&lang=en-gb&sort=price
//   x-site-lang: en-gb
//   x-device-type: desktop      (mobile when the User-Agent contains "Mobile")
function handler(event) {
  var request = event.request;
  var lang = request.querystring.lang;
  var value = lang ? lang.value.toLowerCase() : 'en';
  if (lang) lang.value = value;
  request.headers['x-site-lang'] = {value: value};
  var ua = request.headers['user-agent'];
  request.headers['x-device-type'] = {value: ua && ua.value.indexOf('Mobile') >= 0 ? 'mobile' : 'desktop'};
  request.uri = '/v2' + request.uri;
  return request;
}
