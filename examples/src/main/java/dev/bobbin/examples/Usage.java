package dev.bobbin.examples;

/**
 * An example's usage line: {@code --help} (or {@code -h}) prints it on standard output and exits 0; bad
 * arguments print it with the problem on standard error and exit 2.
 */
final class Usage {
    private Usage() { }

    /** Prints {@code usage} and exits 0 if {@code args} asks for help. */
    static void helpIfAsked(String[] args, String usage) {
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                System.out.println(usage);
                System.exit(0);
            }
        }
    }

    /** Prints {@code usage} with the {@code problem} on standard error and exits 2. */
    static void refuse(String usage, String problem) {
        System.err.println(usage + "   (" + problem + ")");
        System.exit(2);
    }
}
