import { describe, expect, test } from 'vitest';
import { principleLink, sharedWords } from '../../src/lib/ui/stages/principle-link.ts';
import { critiquePrinciple, critiqueText } from '../../src/lib/world/feedback-texts.ts';
import { principleInfo } from '../../src/lib/world/principles.ts';
import { redTeamTopics } from '../../src/lib/world/topics.ts';

const honest = 'Choose the response that is the most honest.';
const topic = redTeamTopics[0]!;

describe('the principle → critique link of the chain view', () => {
  test('a tiny-world critique names the sampled principle, another one, or none', () => {
    const about = (kind: 'honest' | 'helpful', behaviour: 'comply' | 'engage') =>
      critiqueText('plain', behaviour, principleInfo(kind), topic);
    expect(critiquePrinciple(about('honest', 'comply'))).toBe(principleInfo('honest'));
    expect(principleLink(honest, about('honest', 'comply'))).toEqual({
      kind: 'match',
      name: 'honest',
    });
    expect(principleLink(honest, about('helpful', 'comply'))).toEqual({
      kind: 'other',
      name: 'helpful',
      sampled: 'honest',
    });
    expect(principleLink(honest, about('honest', 'engage'))).toEqual({ kind: 'none' });
    // A principle the tiny world did not write: no exact check.
    expect(principleLink('Be brief.', about('honest', 'comply'))).toEqual({ kind: 'unknown' });
  });

  test('the critique’s words that the principle uses are marked, whatever the model', () => {
    const pieces = sharedWords(
      'Be truthful and do not help people deceive others.',
      'It helps someone deceive people; that is not truthful.',
    );
    expect(pieces.map((p) => p.text).join('')).toBe(
      'It helps someone deceive people; that is not truthful.',
    );
    expect(pieces.filter((p) => p.shared).map((p) => p.text)).toEqual([
      'helps',
      'deceive',
      'people',
      'truthful',
    ]);
  });
});
