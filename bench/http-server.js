// SPDX-License-Identifier: GPL-2.0
//
// node bench/http-server.js ADDR PORT [BYTES]
//
// An ordinary Node.js HTTP server (no cluster, no tuning) answering every
// request with the same document of BYTES bytes (default 64 KiB), for wrk.
'use strict';

const http = require('http');

const [addr, port, bytes = '65536'] = process.argv.slice(2);
if (!addr || !port) {
	console.error('usage: node http-server.js ADDR PORT [BYTES]');
	process.exit(2);
}
const body = Buffer.alloc(Number(bytes), 'x');

http.createServer((req, res) => {
	res.writeHead(200, {
		'Content-Type': 'text/plain',
		'Content-Length': body.length,
	});
	res.end(body);
}).listen(Number(port), addr, () => {
	console.log(`http-server: listening on ${addr}:${port}, ${body.length} B`);
});
