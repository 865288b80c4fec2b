export { type AllInOneConfig, readAllInOneConfig } from './config.js';
export { createDemo, type Demo, demoAuthorizeUrl, loadDemo } from './demo.js';
export { type AllInOne, type AllInOneOptions, startAllInOne } from './server.js';
