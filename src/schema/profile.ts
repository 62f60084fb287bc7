import type { UserProfile } from '../downstream/profile-client.js';
import { builder } from './builder.js';
import { downstreamUnavailableError } from '../errors/index.js';

/** A user's profile, owned by the profile service (PROFILE_SERVICE_URL), not by this database. */
const UserProfileRef = builder.objectRef<UserProfile>('UserProfile').implement({
  description: "A user's public profile, from the profile service.",
  fields: (t) => ({
    avatarUrl: t.exposeString('avatarUrl', { nullable: true, description: 'An http(s) URL of the avatar image, or null.' }),
    bio: t.exposeString('bio', { nullable: true, description: 'Free text about the user, or null.' }),
    locale: t.exposeString('locale', { nullable: true, description: 'Preferred locale (BCP 47, e.g. "en-GB"), or null.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the profile was last changed.' }),
  }),
});

builder.prismaObjectField('User', 'profile', (t) =>
  t.field({
    type: UserProfileRef,
    nullable: true,
    description:
      'The profile, from the profile service; null when the user has none or no service is configured. ' +
      'When the service fails or is shed (circuit open), null with a DOWNSTREAM_UNAVAILABLE error; the rest of the response is intact.',
    // Batched per request (one call for all users of a response in batch mode).
    resolve: async (user, _args, ctx, info) => {
      try {
        return await ctx.loaders.profileByUserId.load(user.id);
      } catch {
        // The client logged the kind of failure once per call, with the request id.
        throw downstreamUnavailableError(info);
      }
    },
  }),
);
