/**
 * The bottom layer of executor-core (not API): what every other package of the module may use and which
 * itself uses none of them (the other modules use it too): {@link dev.bobbin.base.VarHandles}, the one
 * lookup of the {@code VarHandle}s of Bobbin's own fields; {@link dev.bobbin.base.LinePadding}, the
 * padding of fields several threads write; {@link dev.bobbin.base.LogGate}, the gate of every
 * rate-limited log line. Anything added here must depend on the JDK only.
 */
package dev.bobbin.base;
