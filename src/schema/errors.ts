import { EmailTakenError, FieldError, MembershipError, NotFoundError, SlugTakenError, ValidationError, VersionConflictError } from '../resolvers/errors.js';
import { builder } from './builder.js';

/** The contract's typed errors, returned as data in mutation result unions. */
const ErrorInterface = builder.interfaceRef<{ message: string }>('Error').implement({
  description: 'Every error returned as data implements this interface.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'A human-readable explanation.' }),
  }),
});

builder.objectType(FieldError, {
  name: 'FieldError',
  description: 'One invalid input field.',
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'Path of the field in the arguments, e.g. ["input", "email"].' }),
    message: t.exposeString('message', { description: 'What is wrong with the value.' }),
  }),
});

export const ValidationErrorRef = builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'The input broke a rule; nothing was written.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof ValidationError,
  fields: (t) => ({
    fieldErrors: t.field({
      type: [FieldError],
      description: 'One entry per invalid field.',
      resolve: (e) => e.fieldErrors,
    }),
  }),
});

export const EmailTakenErrorRef = builder.objectType(EmailTakenError, {
  name: 'EmailTakenError',
  description: 'Another user already has this email (compared case-insensitively).',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof EmailTakenError,
  fields: (t) => ({ email: t.exposeString('email', { description: 'The normalized email that is taken.' }) }),
});

export const SlugTakenErrorRef = builder.objectType(SlugTakenError, {
  name: 'SlugTakenError',
  description: 'Another team already has this slug.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof SlugTakenError,
  fields: (t) => ({ slug: t.exposeString('slug', { description: 'The slug that is taken.' }) }),
});

export const NotFoundErrorRef = builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'No entity of the expected type has this ID.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof NotFoundError,
  fields: (t) => ({ id: t.exposeID('id', { description: 'The ID as it was given.' }) }),
});

export const VersionConflictErrorRef = builder.objectType(VersionConflictError, {
  name: 'VersionConflictError',
  description: 'expectedVersion did not match: someone else changed the record first.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof VersionConflictError,
  fields: (t) => ({
    currentVersion: t.exposeInt('currentVersion', { description: 'The version the record has now.' }),
  }),
});

export const MembershipErrorRef = builder.objectType(MembershipError, {
  name: 'MembershipError',
  description: 'Already a member, not a member, or a move that would leave a team without an OWNER.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof MembershipError,
  fields: () => ({}),
});
