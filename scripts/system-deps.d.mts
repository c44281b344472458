/** Types of scripts/system-deps.mjs, for its unit test (the script itself runs under plain node). */
export interface Probes {
  env: Record<string, string | undefined>;
  isRoot(): boolean;
  hasCommand(name: string): boolean;
  sudoWorks(): boolean;
  dpkgVersion(pkg: string): string | null;
  isFile(path: string): boolean;
  codename(): string | null;
  aptSources(): string;
}
export interface SystemDep {
  apt: string;
  why: string;
  min?: string;
  suite?: Record<string, string>;
  present(p: Probes): boolean;
}
export interface Plan {
  present: SystemDep[];
  missing: SystemDep[];
  via: "none" | "skip" | "root" | "sudo" | "print" | "no-apt";
  script: string | null;
  command: string | null;
}
export declare const SYSTEM_DEPS: SystemDep[];
export declare function versionAtLeast(a: string, b: string): boolean;
export declare function mirrorFor(sources: string, suite: string): string | null;
export declare function planSystemDeps(probes: Probes, deps?: SystemDep[]): Plan;
export declare function installArgv(plan: Plan): [string, string[]] | null;
export declare function machineProbes(env?: Record<string, string | undefined>): Probes;
