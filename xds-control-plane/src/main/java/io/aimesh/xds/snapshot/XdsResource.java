package io.aimesh.xds.snapshot;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One named xDS resource, serialized once and shared by every stream that sends it.
 * Its version is a hash of its content, so an unchanged resource keeps its version across
 * policy reloads and control-plane restarts, and a reconnecting client is sent nothing new.
 */
public record XdsResource(String name, Message message, Any packed, String version) {
    public XdsResource {
        requireNonNull(name, "name");
        requireNonNull(message, "message");
        requireNonNull(packed, "packed");
        requireNonNull(version, "version");
    }

    /** Packs {@code message} deterministically and derives its version from the bytes. */
    public static XdsResource of(String name, Message message) {
        byte[] bytes = deterministicBytes(message);
        Any packed = Any.newBuilder()
                .setTypeUrl("type.googleapis.com/" + message.getDescriptorForType().getFullName())
                .setValue(com.google.protobuf.ByteString.copyFrom(bytes))
                .build();
        return new XdsResource(name, message, packed, hash(bytes));
    }

    public static String hash(byte[] bytes) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    private static byte[] deterministicBytes(Message message) {
        // Map fields (e.g. in Struct metadata) serialize in hash order unless told otherwise;
        // a version must not change when the content does not.
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.getSerializedSize());
        CodedOutputStream coded = CodedOutputStream.newInstance(out);
        coded.useDeterministicSerialization();
        try {
            message.writeTo(coded);
            coded.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
