// Package auth: gVisor's pkg/sentry/kernel/auth (see auth.ts).
export * from './auth';
