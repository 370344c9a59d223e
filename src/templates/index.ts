export { type SessionLocalsMiddleware, type SessionLocalsOptions, sessionLocals } from './express.js';
export { followSteps, parseSessionPath, resolvePath, type SessionPathExpression, sessionPath } from './path.js';
export { type SessionView, sessionView } from './view.js';
