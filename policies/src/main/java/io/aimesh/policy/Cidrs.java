package io.aimesh.policy;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** CIDR ranges as a Gateway's {@code trustedCidrs} names them. */
final class Cidrs {
    private Cidrs() {
    }

    /**
     * {@code text} as {@code address/prefix} with the address in its canonical form, or {@code null} when
     * it is not a CIDR range. Only literal addresses are accepted: the shape check already allows just
     * hex digits, '.', ':' and '/', so {@link InetAddress#getByName} never resolves a name here.
     */
    static String canonical(String text) {
        int slash = text.indexOf('/');
        if (slash <= 0 || slash != text.lastIndexOf('/')) {
            return null;
        }
        String address = text.substring(0, slash);
        if (!address.contains(":") && !address.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
            return null; // getByName would take "10.1" or "1" as IPv4 shorthand
        }
        InetAddress ip;
        try {
            ip = InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            return null;
        }
        int prefix = Integer.parseInt(text.substring(slash + 1));
        if (prefix > ip.getAddress().length * 8) {
            return null;
        }
        return ip.getHostAddress() + "/" + prefix;
    }
}
