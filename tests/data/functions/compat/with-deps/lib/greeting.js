'use strict';
exports.greeting = (name) => `hello ${name} from a local module`;
