import com.adobe.epubcheck.tool.EpubChecker;

/** Runs EPUBCheck on every file named, in one JVM, printing a marker and exit code per file. */
public class EpubcheckBatch {
    public static void main(String[] args) {
        for (String f : args) {
            System.out.println("=== galley-epubcheck: " + f);
            int code = new EpubChecker().run(new String[] {f, "--failonwarnings"});
            System.out.println("=== galley-epubcheck-exit: " + code);
            System.out.flush();
        }
    }
}
