// Types for aws-sdk-client-mock-jest's matchers (registered in test/setup.ts): its own augmentation targets the
// `vitest` module, which vitest 4 re-exports from @vitest/expect, so the interface is merged here.
import "@vitest/expect";

type AnyCommandClass = abstract new (...args: any[]) => any;
type InputOf<C> = C extends abstract new (input: infer I, ...rest: any[]) => any ? Partial<I> | Record<string, unknown> : Record<string, unknown>;

declare module "@vitest/expect" {
  interface Assertion<T = any> {
    toHaveReceivedCommand<C extends AnyCommandClass>(command: C): void;
    toHaveReceivedCommandTimes<C extends AnyCommandClass>(command: C, times: number): void;
    toHaveReceivedCommandOnce<C extends AnyCommandClass>(command: C): void;
    toHaveReceivedCommandWith<C extends AnyCommandClass>(command: C, input: InputOf<C>): void;
    toHaveReceivedNthCommandWith<C extends AnyCommandClass>(command: C, call: number, input: InputOf<C>): void;
    toHaveReceivedNthSpecificCommandWith<C extends AnyCommandClass>(command: C, call: number, input: InputOf<C>): void;
    toHaveReceivedAnyCommand(): void;
  }
}
