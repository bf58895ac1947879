export * from './errors.js'
export * from './sign.js'
export * from './topics.js'
