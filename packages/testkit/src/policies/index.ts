export { addressFrontend, bp, lrp, serviceFrontend, type Json } from './policy-fixtures.js';
