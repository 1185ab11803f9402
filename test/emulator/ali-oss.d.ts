// ali-oss ships no type declarations; the conformance test uses it untyped.
declare module 'ali-oss';
