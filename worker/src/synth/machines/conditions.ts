import type { Condition } from '../model';

/**
 * What every machine's target-domain recordings share besides their own operating point and hall: a less steady
 * machine (off-design running) and an acoustic path that changes from one recording to the next. With the 10-clip
 * target bank this is what makes domain normalisation matter (docs/synth.md, "The domain shift").
 */
const TARGET_SETUP: Pick<Condition, 'unsteadiness' | 'reflections'> = {
  unsteadiness: 1.3,
  reflections: { count: 6, maxDelayMs: 8, gain: 0.065 },
};

/** A condition's file-name attributes in file-name order: `{ spd: 1500, bg: 'A' }` is written spd_1500_bg_A. */
type Attributes = Readonly<Record<string, string | number>>;
/** What the physics uses; the target set-up is TARGET_SETUP's, for every machine alike. */
type Physics = Omit<Condition, 'attributes' | keyof typeof TARGET_SETUP>;

/**
 * A source-domain operating condition. The attributes are a record in file-name order (their keys are names, never
 * integer-like, so the record keeps that order).
 */
export function sourceCondition(attributes: Attributes, physics: Physics): Condition {
  return { attributes: Object.entries(attributes).map(([key, value]) => [key, String(value)]), ...physics };
}

/** A target-domain operating condition: the machine's own shifted operating point and hall, plus TARGET_SETUP. */
export function targetCondition(attributes: Attributes, physics: Physics): Condition {
  return { ...sourceCondition(attributes, physics), ...TARGET_SETUP };
}
