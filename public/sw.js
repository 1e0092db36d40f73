importScripts('/sw-cache.js');
