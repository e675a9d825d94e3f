// simple-peer as an app bundles it: the constructor, nothing else.
export { default } from 'simple-peer';
