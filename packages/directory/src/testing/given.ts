// given(events).when(command).thenEmits(events) | thenRefuses(kind, fields): tests for any decider.
import { expect } from 'vitest';
import { DomainError } from '../errors.js';

export function deciderSpec<State, Command, Event>(decider: {
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
  initialState: State;
}) {
  return (events: Event[]) => {
    const state = events.reduce(decider.evolve, decider.initialState);
    return {
      when: (command: Command) => ({
        thenEmits: (expected: Event[]) => expect(decider.decide(command, state)).toEqual(expected),
        thenRefuses: (kind: DomainError['kind'], fields?: string[]) => {
          let error: unknown;
          try {
            decider.decide(command, state);
          } catch (caught) {
            error = caught;
          }
          expect(error).toBeInstanceOf(DomainError);
          expect((error as DomainError).kind).toBe(kind);
          if (fields) expect((error as DomainError).problems.map((p) => p.field)).toEqual(fields);
        },
      }),
    };
  };
}
