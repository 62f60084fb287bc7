import { type DocumentNode, GraphQLError, parse } from 'graphql';
import { badUserInput } from './argument-bounds.js';
import { measureDocument } from './document-size.js';
import { limitError } from './limit-error.js';

export interface DocumentLimitsOptions {
  /** Most characters in the document; checked before parsing. */
  maxQueryLength: number;
  /** Most lexical tokens in the document; enforced while parsing. */
  maxTokens: number;
  /** Most selections, each fragment counted at every spread (see `measureDocument`). */
  maxSelections: number;
  /** Most items in a literal list (argument or variable default). */
  maxListItems: number;
}

/**
 * A parse function with the checks on the document itself, before anything else looks at it: length
 * (before parsing), tokens (while parsing), literal lists and selections (after parsing).
 *
 * The token limit is graphql's own `maxTokens` parse option (what armor's max-tokens plugin
 * re-implements, on a bundled graphql 16 parser whose ASTs and errors are not graphql 17's).
 * Length and selections bound what no later limit can: lexing reads every character (a 900 KB name
 * is one token and tens of milliseconds), graphql's overlapping-fields validation compares
 * selections pairwise (740 × `me { id }` took a second), and the cost pass walks the operation with
 * every fragment expanded (a fan-out reached its 10,000-node cap only after 100 ms).
 */
export function documentLimitsParser({ maxQueryLength, maxTokens, maxSelections, maxListItems }: DocumentLimitsOptions): typeof parse {
  return (source, parseOptions) => {
    const length = typeof source === 'string' ? source.length : source.body.length;
    if (length > maxQueryLength) throw limitError(`Query length limit of ${maxQueryLength} characters exceeded, found ${length}.`);
    let document: DocumentNode;
    try {
      document = parse(source, { ...parseOptions, maxTokens });
    } catch (error) {
      if (error instanceof GraphQLError && /^Syntax Error: Document contains more than \d+ tokens/.test(error.message)) {
        throw limitError(`Token limit of ${maxTokens} exceeded.`);
      }
      throw error;
    }
    const { selections, longList } = measureDocument(document, maxListItems);
    // A literal list is an argument value, refused like a variable's (BAD_USER_INPUT), only sooner.
    if (longList) throw badUserInput(`${longList.where} has ${longList.items} items; at most ${maxListItems} are allowed.`);
    if (selections > maxSelections) throw limitError(`Selection limit of ${maxSelections} exceeded, found ${selections}.`);
    return document;
  };
}
