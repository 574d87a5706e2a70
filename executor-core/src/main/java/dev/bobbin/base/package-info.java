/**
 * The bottom layer of executor-core (not API): what every other package of the module may use and which
 * itself uses none of them. Today that is {@link dev.bobbin.base.VarHandles}, the one lookup of the
 * {@code VarHandle}s of Bobbin's own fields. Anything added here must depend on the JDK only.
 */
package dev.bobbin.base;
